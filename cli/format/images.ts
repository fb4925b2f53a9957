import { ellipsis, goTimeString, humanDuration, humanSize, rfc3339, truncateId } from './human';
import { contextRow, type Row } from './formatter';
import { familiarName, parseRef } from '../reference';

export interface ImageSummary {
  Id: string;
  ParentId?: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created?: number;
  Size?: number;
  SharedSize?: number;
  VirtualSize?: number;
  Labels?: Record<string, string> | null;
  Containers?: number;
}

export const IMAGES_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
export const IMAGES_TABLE_DIGESTS = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';

export const IMAGE_HEADERS: Row = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

const sizeOrNA = (n: number | undefined) => (n === undefined || n < 0 ? 'N/A' : humanSize(n, 3));

/** One row per repository:tag (and per digest with --digests), as docker images lists them. */
export function imageRows(images: ImageSummary[], opts: { trunc: boolean; digests: boolean; now?: number }): Row[] {
  const now = opts.now ?? Date.now();
  const rows: Row[] = [];
  for (const img of images) {
    const make = (repo: string, tag: string, digest: string): Row =>
      contextRow({
      Containers: img.Containers === undefined || img.Containers < 0 ? 'N/A' : String(img.Containers),
      CreatedAt: goTimeString((img.Created ?? 0) * 1000),
      CreatedSince: img.Created ? `${humanDuration(now - img.Created * 1000)} ago` : 'N/A',
      Digest: digest,
      ID: opts.trunc ? truncateId(img.Id) : img.Id,
      Repository: repo,
      SharedSize: sizeOrNA(img.SharedSize),
      Size: humanSize(img.Size ?? 0, 3),
      Tag: tag,
      UniqueSize: img.SharedSize === undefined || img.SharedSize < 0 ? 'N/A' : humanSize((img.Size ?? 0) - img.SharedSize, 3),
      VirtualSize: humanSize(img.VirtualSize ?? img.Size ?? 0),
    });
    const tags = new Map<string, string[]>();
    const digests = new Map<string, string[]>();
    for (const ref of img.RepoTags ?? []) {
      try {
        const r = parseRef(ref);
        if (!r.tag) continue;
        const n = familiarName(r);
        tags.set(n, [...(tags.get(n) ?? []), r.tag]);
      } catch {
        /* "<none>:<none>" and other unparsable entries are skipped, as docker does */
      }
    }
    for (const ref of img.RepoDigests ?? []) {
      try {
        const r = parseRef(ref);
        if (!r.digest) continue;
        const n = familiarName(r);
        digests.set(n, [...(digests.get(n) ?? []), r.digest]);
      } catch {
        /* skipped */
      }
    }
    const before = rows.length;
    for (const [repo, repoTags] of tags) {
      const ds = opts.digests ? (digests.get(repo) ?? []) : [];
      digests.delete(repo);
      for (const tag of repoTags) {
        if (!ds.length) rows.push(make(repo, tag, '<none>'));
        else for (const d of ds) rows.push(make(repo, tag, d));
      }
    }
    for (const [repo, ds] of digests) {
      if (opts.digests) for (const d of ds) rows.push(make(repo, '<none>', d));
      else rows.push(make(repo, '<none>', '<none>'));
    }
    if (rows.length === before) rows.push(make('<none>', '<none>', '<none>'));
  }
  return rows;
}

export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags?: string[] | null;
  Size: number;
  Comment: string;
}

export const HISTORY_TABLE = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
/** Without --human docker shows the creation date itself. */
export const HISTORY_TABLE_RAW = 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
export const HISTORY_HEADERS: Row = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

export function historyRows(items: HistoryItem[], opts: { trunc: boolean; human: boolean; now?: number }): Row[] {
  const now = opts.now ?? Date.now();
  return items.map((h) => {
    const createdBy = h.CreatedBy.replace(/\t/g, ' ');
    return contextRow({
      Comment: h.Comment,
      CreatedAt: rfc3339(h.Created * 1000),
      CreatedBy: opts.trunc ? ellipsis(createdBy, 45) : createdBy,
      CreatedSince: opts.human ? `${humanDuration(now - h.Created * 1000)} ago` : rfc3339(h.Created * 1000),
      ID: h.Id === '<missing>' || !h.Id ? '<missing>' : opts.trunc ? truncateId(h.Id) : h.Id,
      Size: opts.human ? humanSize(h.Size, 3) : String(h.Size),
    });
  });
}
