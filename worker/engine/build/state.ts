// Pure pieces of a build stage's state: environment, build args, WORKDIR and COPY
// destinations, EXPOSE and STOPSIGNAL values, following the classic builder's rules.

import { posix } from 'node:path';
import { invalid } from '../../../shared/errors';

/** Set KEY=value in a Docker env list, replacing an existing KEY in place. */
export function setEnv(env: readonly string[], key: string, value: string): string[] {
  const out = [...env];
  const i = out.findIndex((kv) => kv === key || kv.startsWith(`${key}=`));
  if (i >= 0) out[i] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
}

export function envKeys(env: readonly string[]): Set<string> {
  return new Set(env.map((kv) => kv.split('=', 1)[0]));
}

/** Args every build may use without declaring them (proxies), as Docker allows. */
export const PREDEFINED_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

/**
 * Build args: the values the request gave (null: given without a value, i.e. unset), the
 * ARGs declared before the first FROM, and which names some ARG consumed.
 */
export class BuildArgs {
  readonly meta = new Map<string, string | undefined>();
  private readonly consumed = new Set<string>();

  constructor(private readonly given: Readonly<Record<string, string | null>>) {}

  private givenValue(key: string): string | undefined {
    const v = this.given[key];
    return typeof v === 'string' ? v : undefined;
  }

  /** An ARG before FROM: the request's value, else its default. */
  declareMeta(key: string, dflt: string | undefined): void {
    this.consumed.add(key);
    this.meta.set(key, this.givenValue(key) ?? dflt);
  }

  /** An ARG in a stage: the request's value, else its default, else the value of a same-named ARG before FROM. */
  declare(stageArgs: Map<string, string | undefined>, key: string, dflt: string | undefined): void {
    this.consumed.add(key);
    stageArgs.set(key, this.givenValue(key) ?? dflt ?? this.meta.get(key));
  }

  /** Declared args with a value that ENV does not override: what RUN's history and cache key record. */
  declared(stageArgs: ReadonlyMap<string, string | undefined>, env: readonly string[]): string[] {
    const keys = envKeys(env);
    const out: string[] = [];
    for (const [k, v] of stageArgs) if (v !== undefined && !keys.has(k)) out.push(`${k}=${v}`);
    return out;
  }

  /** Everything a step may see as variables: declared args plus given predefined (proxy) args. */
  allowed(stageArgs: ReadonlyMap<string, string | undefined>, env: readonly string[]): string[] {
    const keys = envKeys(env);
    const out = this.declared(stageArgs, env);
    for (const k of PREDEFINED_ARGS) {
      const v = this.givenValue(k);
      if (v !== undefined && !stageArgs.has(k) && !keys.has(k)) out.push(`${k}=${v}`);
    }
    return out;
  }

  /** Given args no ARG consumed (Docker warns about them). */
  unused(): string[] {
    return Object.keys(this.given).filter((k) => !this.consumed.has(k) && !PREDEFINED_ARGS.has(k)).sort();
  }
}

/** WORKDIR: relative paths build on the current one; the result is absolute and clean. */
export function resolveWorkdir(current: string | undefined, path: string): string {
  const joined = path.startsWith('/') ? path : posix.join(current || '/', path);
  return posix.normalize(`/${joined}`).replace(/(.)\/$/, '$1');
}

/** A COPY/ADD destination made absolute against WORKDIR, keeping a trailing slash. */
export function normalizeDest(workdir: string | undefined, dest: string): string {
  if (dest.startsWith('/')) return dest;
  const endsInSlash = dest.endsWith('/');
  const joined = posix.join('/', workdir || '/', dest);
  return endsInSlash && !joined.endsWith('/') ? `${joined}/` : joined;
}

/** EXPOSE values as ExposedPorts keys ("80/tcp"); ranges expand. */
export function parseExposedPorts(specs: readonly string[]): string[] {
  const out: string[] = [];
  for (const spec of specs) {
    if (spec.includes(':')) throw invalid(`EXPOSE takes container ports only, not a host mapping: ${spec}`);
    const [range, proto = 'tcp', extra] = spec.split('/');
    if (extra !== undefined || !['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw invalid(`Invalid proto: ${proto}`);
    const m = /^(\d+)(?:-(\d+))?$/.exec(range);
    if (!m) throw invalid(`Invalid containerPort: ${range}`);
    const start = parseInt(m[1], 10);
    const end = m[2] === undefined ? start : parseInt(m[2], 10);
    if (start < 1 || end > 65535 || end < start) throw invalid(`Invalid containerPort: ${range}`);
    for (let p = start; p <= end; p++) out.push(`${p}/${proto.toLowerCase()}`);
  }
  return out;
}

const SIGNALS = new Set([
  'ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL', 'PIPE', 'POLL', 'PROF', 'PWR', 'QUIT',
  'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'USR1', 'USR2', 'VTALRM', 'WINCH', 'XCPU', 'XFSZ',
]);

/** STOPSIGNAL: a signal number, or a name with or without SIG. */
export function validateSignal(sig: string): string {
  if (/^\d+$/.test(sig)) {
    const n = parseInt(sig, 10);
    if (n >= 1 && n <= 64) return sig;
  } else {
    const name = sig.toUpperCase().replace(/^SIG/, '');
    if (SIGNALS.has(name) || /^RTMIN(\+([1-9]|1[0-5]))?$/.test(name) || /^RTMAX(-([1-9]|1[0-4]))?$/.test(name)) return sig;
  }
  throw invalid(`Invalid signal: ${sig}`);
}
