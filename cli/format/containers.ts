import { ellipsis, goTimeString, humanDuration, humanSize, truncateId } from './human';
import { contextRow, withMethods, type Row } from './formatter';
import { familiarName, parseRef } from '../reference';

export interface ContainerSummary {
  Id: string;
  Names?: string[];
  Image?: string;
  ImageID?: string;
  Command?: string;
  Created?: number;
  Ports?: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>;
  SizeRw?: number;
  SizeRootFs?: number;
  Labels?: Record<string, string> | null;
  State?: string;
  Status?: string;
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
  Mounts?: Array<{ Name?: string; Source?: string; Driver?: string }> | null;
  ImageManifestDescriptor?: { platform?: unknown } | null;
}

export const PS_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
export const PS_TABLE_SIZE = `${PS_TABLE}\t{{.Size}}`;

export const PS_HEADERS: Row = withMethods(
  {
    ID: 'CONTAINER ID',
    Image: 'IMAGE',
    Command: 'COMMAND',
    CreatedAt: 'CREATED AT',
    RunningFor: 'CREATED',
    Ports: 'PORTS',
    State: 'STATE',
    Status: 'STATUS',
    Size: 'SIZE',
    Names: 'NAMES',
    Labels: 'LABELS',
    Mounts: 'MOUNTS',
    LocalVolumes: 'LOCAL VOLUMES',
    Networks: 'NETWORKS',
    Platform: 'PLATFORM',
  },
  { Label: () => 'LABEL' },
);

/** docker's ps PORTS column: consecutive ports grouped into ranges, host mappings listed last. */
export function displayablePorts(ports: NonNullable<ContainerSummary['Ports']>): string {
  const sorted = [...ports].sort((a, b) => a.PrivatePort - b.PrivatePort || cmp(a.IP ?? '', b.IP ?? '') || (a.PublicPort ?? 0) - (b.PublicPort ?? 0) || cmp(a.Type, b.Type));
  const groups = new Map<string, { first: number; last: number }>();
  const order: string[] = [];
  const result: string[] = [];
  const mappings: string[] = [];
  for (const p of sorted) {
    const current = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== current) {
        mappings.push(`${hostPort(p.IP, String(p.PublicPort ?? 0))}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: current, last: current });
      order.push(key);
      continue;
    }
    if (current === g.last + 1) {
      g.last = current;
      continue;
    }
    result.push(formGroup(key, g.first, g.last));
    groups.set(key, { first: current, last: current });
  }
  for (const k of order) {
    const g = groups.get(k)!;
    result.push(formGroup(k, g.first, g.last));
  }
  return [...result, ...mappings].join(', ');
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const hostPort = (ip: string, port: string) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

function formGroup(key: string, first: number, last: number): string {
  const slash = key.lastIndexOf('/');
  const ip = slash >= 0 ? key.slice(0, slash) : '';
  const type = slash >= 0 ? key.slice(slash + 1) : key;
  let group = first === last ? String(first) : `${first}-${last}`;
  if (ip) group = `${hostPort(ip, group)}->${group}`;
  return `${group}/${type}`;
}

function imageColumn(c: ContainerSummary, trunc: boolean): string {
  const image = c.Image ?? '';
  if (!image) return '<no image>';
  if (!trunc) return image;
  if (c.ImageID && truncateId(c.ImageID) === truncateId(image)) return truncateId(image);
  try {
    const ref = parseRef(image);
    return ref.tag ? `${familiarName(ref)}:${ref.tag}` : familiarName(ref);
  } catch {
    return image;
  }
}

const stripSlash = (names: string[]) => names.map((n) => (n.startsWith('/') ? n.slice(1) : n));

/** The fields docker's ps --format exposes for one container. */
export function containerRow(c: ContainerSummary, opts: { trunc: boolean; now?: number }): Row {
  const now = opts.now ?? Date.now();
  let names = stripSlash(c.Names ?? []);
  if (opts.trunc) {
    const own = names.find((n) => !n.includes('/'));
    if (own !== undefined) names = [own];
  }
  const labels = c.Labels ?? {};
  const command = opts.trunc ? ellipsis(c.Command ?? '', 20) : (c.Command ?? '');
  const mounts = (c.Mounts ?? []).map((m) => {
    const n = m.Name ? m.Name : (m.Source ?? '');
    return opts.trunc ? ellipsis(n, 15) : n;
  });
  const sizeRw = humanSize(c.SizeRw ?? 0, 3);
  const row: Row = {
    Command: JSON.stringify(command),
    CreatedAt: goTimeString((c.Created ?? 0) * 1000),
    ID: opts.trunc ? truncateId(c.Id) : c.Id,
    Image: imageColumn(c, opts.trunc),
    Labels: Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(','),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
    Mounts: mounts.join(','),
    Names: names.join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {})
      .sort()
      .join(','),
    Platform: c.ImageManifestDescriptor?.platform ?? null,
    Ports: displayablePorts(c.Ports ?? []),
    RunningFor: `${humanDuration(now - (c.Created ?? 0) * 1000)} ago`,
    Size: (c.SizeRootFs ?? 0) > 0 ? `${sizeRw} (virtual ${humanSize(c.SizeRootFs ?? 0, 3)})` : sizeRw,
    State: c.State ?? '',
    Status: c.Status ?? '',
  };
  return contextRow(row, { Label: (k: unknown) => labels[String(k)] ?? '' });
}
