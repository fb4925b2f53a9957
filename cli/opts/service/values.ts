// Scalar and structured values of the service flags, with the docker CLI's error texts:
// unsigned integers, float ratios, non-negative durations, shell-word commands, -p/--publish,
// --placement-pref, --network and the enumerated flags (--mode, --restart-condition, ...).
import { FlagError, OptionError } from '../errors';
import { csvFields } from '../volumes';
import { parsePorts } from '../ports';
import { parseGoDuration } from '../values';
import type { NetworkAttachmentConfig, PortConfig } from '../../format/swarm-types';

/** A Go uint64 (strconv.ParseUint base 0: decimal, 0x.., 0o.., 0b..). */
export function parseUint(value: string, flag: string): number {
  const v = value.replace(/_/g, '');
  const m = /^(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9]\d*)$/.exec(v);
  if (!m) throw new FlagError(flag, value, `strconv.ParseUint: parsing ${JSON.stringify(value)}: invalid syntax`);
  const n = /^0[0-7]+$/.test(v) ? parseInt(v, 8) : Number(v.replace(/^0[oO]/, '0o'));
  if (!Number.isSafeInteger(n)) throw new FlagError(flag, value, `strconv.ParseUint: parsing ${JSON.stringify(value)}: value out of range`);
  return n;
}

/** A Go float32 (--update-max-failure-ratio). */
export function parseFloat32(value: string, flag: string): number {
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(value.trim()) && !/^[+-]?(inf|infinity|nan)$/i.test(value.trim())) {
    throw new FlagError(flag, value, `strconv.ParseFloat: parsing ${JSON.stringify(value)}: invalid syntax`);
  }
  return Number(value);
}

/** A duration flag (Go syntax, "1m30s"); `positive` rejects negative values as the health flags do. */
export function parseDuration(value: string, flag: string, opts: { positive?: boolean } = {}): number {
  const ns = parseGoDuration(value, flag);
  if (opts.positive && ns < 0) throw new FlagError(flag, value, 'duration cannot be negative');
  return ns;
}

/** A value that must be one of `allowed` (docker leaves some of these to the daemon; the CLI checks them before sending). */
export function oneOf<T extends string>(value: string, flag: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new FlagError(flag, value, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  return value as T;
}

/** Split a command line into words as a POSIX shell would (quotes, backslashes, # comments). */
export function parseShellWords(value: string, flag: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    if (c === '#' && !inWord) break;
    inWord = true;
    if (c === '\\') {
      if (i + 1 >= value.length) throw new FlagError(flag, value, 'EOF found after escape character');
      cur += value[++i];
    } else if (c === "'") {
      const end = value.indexOf("'", i + 1);
      if (end < 0) throw new FlagError(flag, value, 'EOF found when expecting closing quote');
      cur += value.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < value.length && value[j] !== '"'; j++) {
        if (value[j] === '\\' && j + 1 < value.length && '"\\$`\n'.includes(value[j + 1])) j++;
        cur += value[j];
      }
      if (j >= value.length) throw new FlagError(flag, value, 'EOF found when expecting closing quote');
      i = j;
    } else cur += c;
  }
  if (inWord) words.push(cur);
  return words;
}

// docker picks the long syntax when the value contains "word=word" anywhere.
const LONG_SYNTAX = /\w+=\w+(,\w+=\w+)*/;

function parsePort16(v: string, what: string, flag: string, raw: string): number {
  if (!/^\d+$/.test(v)) throw new FlagError(flag, raw, `invalid ${what} port (${v}): value must be an integer: invalid syntax`);
  const n = Number(v);
  if (n > 65535) throw new FlagError(flag, raw, `invalid ${what} port (${v}): value must be an integer: value out of range`);
  return n;
}

/** One -p/--publish value: "published=8080,target=80,mode=host,protocol=udp" or "8080:80[/udp]". */
export function parsePublish(raw: string, flag = '-p, --publish'): PortConfig[] {
  if (LONG_SYNTAX.test(raw)) {
    const p: PortConfig = { Protocol: 'tcp', TargetPort: 0, PublishedPort: 0, PublishMode: 'ingress' };
    for (const field of csvFields(raw)) {
      const lower = field.toLowerCase();
      const eq = lower.indexOf('=');
      if (eq <= 0) throw new FlagError(flag, raw, `invalid field: ${field}`);
      const key = lower.slice(0, eq);
      const val = lower.slice(eq + 1);
      switch (key) {
        case 'protocol':
          if (!['tcp', 'udp', 'sctp'].includes(val)) throw new FlagError(flag, raw, `invalid protocol value '${val}'`);
          p.Protocol = val as PortConfig['Protocol'];
          break;
        case 'mode':
          if (val !== 'ingress' && val !== 'host') throw new FlagError(flag, raw, `invalid publish mode value (${val}): must be either 'ingress' or 'host'`);
          p.PublishMode = val;
          break;
        case 'target':
          p.TargetPort = parsePort16(val, 'target', flag, raw);
          break;
        case 'published':
          p.PublishedPort = parsePort16(val, 'published', flag, raw);
          break;
        default:
          throw new FlagError(flag, raw, `invalid field key: ${key}`);
      }
    }
    if (!p.TargetPort) throw new FlagError(flag, raw, "missing mandatory field 'target'");
    return [omitZeroPorts(p)];
  }
  let spec;
  try {
    spec = parsePorts([raw]);
  } catch (e) {
    if (e instanceof OptionError) throw new FlagError(flag, raw, e.message);
    throw e;
  }
  const out: PortConfig[] = [];
  for (const [key, bindings] of Object.entries(spec.bindings)) {
    const [port, proto] = key.split('/');
    for (const b of bindings) {
      if (b.HostIp !== '') throw new FlagError(flag, raw, 'hostip is not supported');
      const range = /^(\d+)(?:-(\d+))?$/.exec(b.HostPort);
      const first = range ? Number(range[1]) : 0;
      const last = range?.[2] !== undefined ? Number(range[2]) : first;
      for (let n = first; n <= last; n++) out.push(omitZeroPorts({ Protocol: proto as PortConfig['Protocol'], TargetPort: Number(port), PublishedPort: n, PublishMode: 'ingress' }));
    }
  }
  return out.sort((a, b) => (a.TargetPort ?? 0) - (b.TargetPort ?? 0) || (a.PublishedPort ?? 0) - (b.PublishedPort ?? 0));
}

/** Go leaves zero ports out of the JSON (omitempty): the daemon picks a published port. */
function omitZeroPorts(p: PortConfig): PortConfig {
  const out: PortConfig = { Protocol: p.Protocol };
  if (p.TargetPort) out.TargetPort = p.TargetPort;
  if (p.PublishedPort) out.PublishedPort = p.PublishedPort;
  out.PublishMode = p.PublishMode;
  return out;
}

/** --placement-pref spread=node.labels.zone */
export function parsePlacementPref(value: string, flag: string): { Spread: { SpreadDescriptor: string } } {
  const eq = value.indexOf('=');
  const strategy = eq < 0 ? '' : value.slice(0, eq);
  if (!strategy) throw new FlagError(flag, value, 'placement preference must be of the format "<strategy>=<arg>"');
  if (strategy !== 'spread') throw new FlagError(flag, value, `unsupported placement preference ${strategy} (only spread is supported)`);
  return { Spread: { SpreadDescriptor: value.slice(eq + 1) } };
}

/** --network name, or "name=net,alias=a,driver-opt=k=v". */
export function parseNetwork(value: string, flag: string): NetworkAttachmentConfig {
  if (!LONG_SYNTAX.test(value)) return { Target: value };
  const out: NetworkAttachmentConfig = {};
  const aliases: string[] = [];
  for (const field of csvFields(value)) {
    const lower = field.toLowerCase();
    const eq = lower.indexOf('=');
    if (eq <= 0) throw new FlagError(flag, value, `invalid field ${field}`);
    const key = lower.slice(0, eq).trim();
    const val = lower.slice(eq + 1).trim();
    switch (key) {
      case 'name':
        out.Target = val;
        break;
      case 'alias':
        aliases.push(val);
        break;
      case 'driver-opt': {
        const i = val.indexOf('=');
        if (i <= 0) throw new FlagError(flag, value, 'invalid key value pair format in driver options');
        (out.DriverOpts ??= {})[val.slice(0, i).trim()] = val.slice(i + 1).trim();
        break;
      }
      default:
        throw new FlagError(flag, value, `invalid field key ${key}`);
    }
  }
  if (!out.Target) throw new FlagError(flag, value, 'network name/id is not specified');
  if (aliases.length) out.Aliases = aliases;
  return out;
}
