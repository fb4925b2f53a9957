// Image config documents (the OCI/Docker "image config" JSON whose sha256 is the image ID),
// their history entries, and the Dockerfile-style `changes` that import and commit apply.
// Pure: no I/O.
import os from 'node:os';
import { invalid } from '../../../shared/errors';
import type { ImageRuntimeConfig } from '../contracts';

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The image config document as stored (field names as on the wire). */
export interface ImageConfigDoc {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  created?: string;
  author?: string;
  comment?: string;
  config?: ImageRuntimeConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
  /** Docker keeps these for `docker inspect`; other writers may add more fields we carry along. */
  [extra: string]: unknown;
}

export function goArch(arch = os.arch()): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch] ?? arch;
}

/** Serialise a config deterministically (the bytes become the image ID). */
export function encodeConfig(doc: ImageConfigDoc): Buffer {
  return Buffer.from(JSON.stringify(doc));
}

/** Parse and sanity-check a config blob. INVALID_ARGUMENT on anything that is not one. */
export function decodeConfig(raw: Buffer | string): ImageConfigDoc {
  let doc: ImageConfigDoc;
  try {
    doc = JSON.parse(raw.toString()) as ImageConfigDoc;
  } catch (e) {
    throw invalid(`invalid image config: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('invalid image config: not a JSON object');
  const ids = doc.rootfs?.diff_ids;
  if (!doc.rootfs || !Array.isArray(ids) || ids.some((d) => typeof d !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d))) {
    throw invalid('invalid image config: rootfs.diff_ids must be a list of sha256 digests');
  }
  return doc;
}

/** A history entry; empty_layer only when true (as docker writes it). */
export function historyEntry(opts: { created: Date; createdBy?: string; comment?: string; author?: string; emptyLayer?: boolean }): HistoryEntry {
  const h: HistoryEntry = { created: opts.created.toISOString() };
  if (opts.author) h.author = opts.author;
  if (opts.createdBy !== undefined) h.created_by = opts.createdBy;
  if (opts.comment) h.comment = opts.comment;
  if (opts.emptyLayer) h.empty_layer = true;
  return h;
}

/** The config of an imported root filesystem (`docker import`). */
export function importConfig(opts: { diffId: string; created: Date; message?: string; source?: string; config?: ImageRuntimeConfig }): ImageConfigDoc {
  const comment = opts.message || `Imported from ${opts.source ?? '-'}`;
  const doc: ImageConfigDoc = {
    architecture: goArch(),
    config: opts.config ?? {},
    created: opts.created.toISOString(),
    history: [historyEntry({ created: opts.created, comment })],
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [opts.diffId] },
  };
  if (opts.message) doc.comment = opts.message;
  return doc;
}

/**
 * The config of a child image: the parent's layers plus (unless emptyLayer) the new one,
 * the parent's history plus one entry, and the given runtime config.
 */
export function childConfig(parent: ImageConfigDoc | undefined, opts: { diffId?: string; created: Date; createdBy: string; comment?: string; author?: string; config: ImageRuntimeConfig }): ImageConfigDoc {
  const diffIds = [...(parent?.rootfs.diff_ids ?? [])];
  if (opts.diffId) diffIds.push(opts.diffId);
  const history = [...(parent?.history ?? [])];
  history.push(historyEntry({ created: opts.created, createdBy: opts.createdBy, comment: opts.comment, author: opts.author, emptyLayer: !opts.diffId }));
  const doc: ImageConfigDoc = {
    architecture: parent?.architecture ?? goArch(),
    config: opts.config,
    created: opts.created.toISOString(),
    history,
    os: parent?.os ?? 'linux',
    rootfs: { type: 'layers', diff_ids: diffIds },
  };
  if (parent?.variant) doc.variant = parent.variant;
  if (opts.author) doc.author = opts.author;
  if (opts.comment) doc.comment = opts.comment;
  return doc;
}

/** Pair each non-empty history entry with its layer, as `docker history` shows them. */
export function historyWithLayers(doc: ImageConfigDoc): Array<{ entry: HistoryEntry; layerIndex?: number }> {
  const hist = doc.history?.length ? doc.history : doc.rootfs.diff_ids.map(() => ({} as HistoryEntry));
  let li = 0;
  return hist.map((entry) => {
    if (entry.empty_layer) return { entry };
    const layerIndex = li < doc.rootfs.diff_ids.length ? li++ : undefined;
    return { entry, layerIndex };
  });
}

// ---- Dockerfile-style `changes` (docker import --change / docker commit --change) ----

const ALLOWED_CHANGES = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);

/** Split "KEY=VALUE KEY2="v 2"" pairs (ENV/LABEL), handling quotes and backslashes. */
export function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | undefined;
  let has = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (quote) throw invalid(`unterminated quote in '${s}'`);
  if (has || cur) out.push(cur);
  return out;
}

function keyValues(instr: string, rest: string): Array<[string, string]> {
  const words = splitWords(rest);
  if (!words.length) throw invalid(`${instr} requires at least one argument`);
  if (!words[0].includes('=')) {
    // Legacy form: "ENV KEY value with spaces"
    const m = /^\s*(\S+)\s+([\s\S]*)$/.exec(rest);
    if (!m) throw invalid(`${instr} requires a value: ${instr} ${rest}`);
    return [[m[1], splitWords(m[2]).join(' ')]];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw invalid(`${instr}: '${w}' is not of the form KEY=VALUE`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}

/** JSON array form `["a","b"]`, else shell form wrapped in `sh -c` (or kept as words when `shellForm` is false). */
function execOrShell(rest: string, shell: string[]): string[] {
  const t = rest.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch {
      /* not JSON: shell form, as docker does */
    }
  }
  return [...shell, t];
}

/** Apply Dockerfile instructions (one per string) to a runtime config; returns a new config. */
export function applyChanges(base: ImageRuntimeConfig, changes: string[]): ImageRuntimeConfig {
  const cfg: ImageRuntimeConfig = structuredClone(base);
  for (const raw of changes) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(line)!;
    const instr = m[1].toUpperCase();
    const rest = m[2];
    if (!ALLOWED_CHANGES.has(instr)) throw invalid(`${instr} is not a valid change command`);
    const shell = cfg.Shell?.length ? cfg.Shell : ['/bin/sh', '-c'];
    switch (instr) {
      case 'CMD':
        cfg.Cmd = execOrShell(rest, shell);
        break;
      case 'ENTRYPOINT':
        cfg.Entrypoint = rest.trim() ? execOrShell(rest, shell) : null;
        break;
      case 'ENV': {
        const env = [...(cfg.Env ?? [])];
        for (const [k, v] of keyValues('ENV', rest)) {
          const i = env.findIndex((e) => e.split('=', 1)[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        cfg.Env = env;
        break;
      }
      case 'LABEL':
        cfg.Labels = { ...(cfg.Labels ?? {}) };
        for (const [k, v] of keyValues('LABEL', rest)) cfg.Labels[k] = v;
        break;
      case 'EXPOSE': {
        cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
        const words = splitWords(rest);
        if (!words.length) throw invalid('EXPOSE requires at least one argument');
        for (const p of words) {
          const pm = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
          if (!pm) throw invalid(`invalid containerPort: ${p}`);
          const proto = (pm[3] ?? 'tcp').toLowerCase();
          const lo = Number(pm[1]);
          const hi = pm[2] ? Number(pm[2]) : lo;
          if (lo < 1 || hi > 65535 || hi < lo) throw invalid(`invalid port range: ${p}`);
          for (let port = lo; port <= hi; port++) cfg.ExposedPorts[`${port}/${proto}`] = {};
        }
        break;
      }
      case 'VOLUME': {
        const t = rest.trim();
        let vols: string[];
        if (t.startsWith('[')) {
          try {
            vols = JSON.parse(t) as string[];
          } catch {
            vols = splitWords(t);
          }
        } else vols = splitWords(t);
        if (!vols.length) throw invalid('VOLUME requires at least one argument');
        cfg.Volumes = { ...(cfg.Volumes ?? {}) };
        for (const v of vols) cfg.Volumes[v] = {};
        break;
      }
      case 'USER':
        if (!rest.trim()) throw invalid('USER requires exactly one argument');
        cfg.User = rest.trim();
        break;
      case 'WORKDIR': {
        const w = rest.trim();
        if (!w) throw invalid('WORKDIR requires exactly one argument');
        cfg.WorkingDir = w.startsWith('/') ? w : `${(cfg.WorkingDir || '/').replace(/\/$/, '')}/${w}`;
        break;
      }
      case 'STOPSIGNAL':
        if (!rest.trim()) throw invalid('STOPSIGNAL requires exactly one argument');
        cfg.StopSignal = rest.trim();
        break;
      case 'ONBUILD':
        if (!rest.trim()) throw invalid('ONBUILD requires at least one argument');
        cfg.OnBuild = [...(cfg.OnBuild ?? []), rest.trim()];
        break;
    }
  }
  return cfg;
}
