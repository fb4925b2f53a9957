import { invalid } from '../../../shared/errors';
import type { ImageRuntimeConfig } from '../contracts';
import { normalizePort } from './merge';
import type { ContainerConfig } from './types';

/** Split a Dockerfile-style argument list: JSON array form or whitespace-separated words. */
function jsonOrWords(rest: string): { json: boolean; items: string[] } {
  const t = rest.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return { json: true, items: v as string[] };
    } catch {
      /* shell form */
    }
  }
  return { json: false, items: t.split(/\s+/).filter(Boolean) };
}

/** key=value pairs (quotes allowed) or the legacy "key value" form. */
function keyValues(instr: string, rest: string): Array<[string, string]> {
  const t = rest.trim();
  if (!t.includes('=')) {
    const i = t.search(/\s/);
    if (i < 0) throw invalid(`${instr} requires at least one argument`);
    return [[t.slice(0, i), t.slice(i).trim()]];
  }
  const out: Array<[string, string]> = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t)) !== null) {
    let v = m[2];
    if (v.startsWith('"')) v = JSON.parse(v) as string;
    else if (v.startsWith("'")) v = v.slice(1, -1);
    out.push([m[1], v]);
  }
  if (!out.length) throw invalid(`${instr}: cannot parse '${rest}'`);
  return out;
}

/**
 * Apply `docker commit --change` instructions to an image config. Supported as dockerd does:
 * CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL, ONBUILD.
 */
export function applyChanges(base: ImageRuntimeConfig, changes: string[]): ImageRuntimeConfig {
  const c: ImageRuntimeConfig = { ...base, Env: [...(base.Env ?? [])], Labels: { ...(base.Labels ?? {}) }, ExposedPorts: { ...(base.ExposedPorts ?? {}) }, Volumes: { ...(base.Volumes ?? {}) } };
  const shell = base.Shell?.length ? base.Shell : ['/bin/sh', '-c'];
  for (const raw of changes.flatMap((ch) => ch.split('\n'))) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const i = line.search(/\s/);
    const instr = (i < 0 ? line : line.slice(0, i)).toUpperCase();
    const rest = i < 0 ? '' : line.slice(i + 1);
    switch (instr) {
      case 'CMD':
      case 'ENTRYPOINT': {
        const { json, items } = jsonOrWords(rest);
        const v = json ? items : [...shell, rest.trim()];
        if (instr === 'CMD') c.Cmd = v;
        else c.Entrypoint = v;
        break;
      }
      case 'ENV':
        for (const [k, v] of keyValues(instr, rest)) {
          c.Env = [...(c.Env ?? []).filter((e) => e.split('=')[0] !== k), `${k}=${v}`];
        }
        break;
      case 'LABEL':
        for (const [k, v] of keyValues(instr, rest)) c.Labels![k] = v;
        break;
      case 'EXPOSE':
        for (const p of rest.trim().split(/\s+/).filter(Boolean)) c.ExposedPorts![normalizePort(p)] = {};
        break;
      case 'VOLUME':
        for (const v of jsonOrWords(rest).items) c.Volumes![v] = {};
        break;
      case 'USER':
        c.User = rest.trim();
        break;
      case 'WORKDIR': {
        const w = rest.trim();
        c.WorkingDir = w.startsWith('/') ? w : `${(c.WorkingDir || '/').replace(/\/$/, '')}/${w}`;
        break;
      }
      case 'STOPSIGNAL':
        c.StopSignal = rest.trim();
        break;
      case 'ONBUILD':
        c.OnBuild = [...(c.OnBuild ?? []), rest.trim()];
        break;
      default:
        throw invalid(`${instr} is not a valid change command`);
    }
  }
  return c;
}

/** The image config a commit starts from: the container's, with the request's non-empty fields on top. */
export function commitConfig(container: ContainerConfig, override: Partial<ContainerConfig> | undefined): ImageRuntimeConfig {
  const o = override ?? {};
  const pick = <T>(a: T | undefined | null, b: T | undefined | null): T | undefined => {
    if (a === undefined || a === null) return b ?? undefined;
    if (Array.isArray(a) && a.length === 0) return b ?? undefined;
    if (typeof a === 'string' && a === '') return b ?? undefined;
    return a;
  };
  // Hostname, Domainname and Attach* are per container and never go into an image.
  return {
    User: pick(o.User, container.User),
    ExposedPorts: pick(o.ExposedPorts ?? undefined, container.ExposedPorts ?? undefined),
    Env: pick(o.Env, container.Env),
    Cmd: pick(o.Cmd, container.Cmd) ?? null,
    Healthcheck: pick(o.Healthcheck, container.Healthcheck),
    Volumes: pick(o.Volumes ?? undefined, container.Volumes ?? undefined),
    WorkingDir: pick(o.WorkingDir, container.WorkingDir) ?? '',
    Entrypoint: pick(o.Entrypoint, container.Entrypoint) ?? null,
    OnBuild: pick(o.OnBuild, container.OnBuild) ?? null,
    Labels: { ...(container.Labels ?? {}), ...(o.Labels ?? {}) },
    StopSignal: pick(o.StopSignal, container.StopSignal),
    Shell: pick(o.Shell ?? undefined, container.Shell ?? undefined),
  };
}
