// -v/--volume, --mount and --tmpfs into Binds, Volumes, Mounts and Tmpfs of a create body.
import { isAbsolute, resolve } from 'node:path';
import { FlagError, OptionError } from './errors';
import { parseSize } from './values';

export interface VolumeSpec {
  binds: string[];
  /** Anonymous volumes: Config.Volumes. */
  volumes: Record<string, Record<string, never>>;
}

const MODES = new Set(['ro', 'rw', 'z', 'Z', 'nocopy', 'shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate', 'consistent', 'cached', 'delegated', 'copy']);

function validMode(mode: string): boolean {
  const parts = mode.split(',');
  if (!parts.every((p) => MODES.has(p))) return false;
  const rw = parts.filter((p) => p === 'ro' || p === 'rw').length;
  const label = parts.filter((p) => p === 'z' || p === 'Z').length;
  const prop = parts.filter((p) => /^r?(shared|slave|private)$/.test(p)).length;
  return rw <= 1 && label <= 1 && prop <= 1;
}

/** Parse -v values: named volumes and binds go to Binds, a lone container path is an anonymous volume. */
export function parseVolumes(specs: string[], cwd: string): VolumeSpec {
  const out: VolumeSpec = { binds: [], volumes: {} };
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec)) continue; // docker keeps -v values in a set
    seen.add(spec);
    if (spec.trim() === '') throw new OptionError('invalid empty volume spec');
    const parts = spec.split(':');
    if (parts.length > 3) throw new OptionError(`invalid volume specification: '${spec}'`);
    if (parts.length === 1) {
      if (!isAbsolute(spec)) throw new OptionError(`invalid volume specification: '${spec}': invalid mount config for type "volume": invalid mount path: '${spec}' mount path must be absolute`);
      out.volumes[spec] = {};
      continue;
    }
    let [src] = parts;
    const [, dst, mode] = parts;
    const bind = src.startsWith('/') || src.startsWith('.') || src.startsWith('~');
    if (src === '') throw new OptionError(`invalid volume specification: '${spec}'`);
    if (!isAbsolute(dst)) throw new OptionError(`invalid volume specification: '${spec}': invalid mount config for type "${bind ? 'bind' : 'volume'}": invalid mount path: '${dst}' mount path must be absolute`);
    if (mode !== undefined && !validMode(mode)) throw new OptionError(`invalid volume specification: '${spec}': invalid mode: ${mode}`);
    if (!bind && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(src)) throw new OptionError(`invalid volume specification: '${spec}': "${src}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
    if (src.startsWith('.')) src = resolve(cwd, src);
    out.binds.push([src, ...parts.slice(1)].join(':'));
  }
  return out;
}

export interface Mount {
  Type: string;
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean; CreateMountpoint?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels: Record<string, string>; DriverConfig: { Name?: string; Options?: Record<string, string> }; Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
  ImageOptions?: { Subpath?: string };
}

/** Split a CSV line as Go's encoding/csv does (double quotes group a field). */
export function csvFields(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === '') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function parseBool(flag: string, raw: string, key: string, v: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new FlagError(flag, raw, `invalid value for ${key}: ${v}`);
}

const FLAG = '--mount';

/** Parse one --mount value ("type=bind,src=/a,dst=/b,readonly"). */
export function parseMount(raw: string): Mount {
  const m: Partial<Mount> = {};
  let type = 'volume';
  let volumeOpt = false;
  let bindOpt = false;
  let tmpfsOpt = false;
  let imageOpt = false;
  const volume = () => {
    volumeOpt = true;
    m.VolumeOptions ??= { Labels: {}, DriverConfig: {} };
    return m.VolumeOptions;
  };
  const bindo = () => {
    bindOpt = true;
    return (m.BindOptions ??= {});
  };
  const tmpfs = () => {
    tmpfsOpt = true;
    return (m.TmpfsOptions ??= {});
  };
  for (const field of csvFields(raw)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    if (value === undefined) {
      if (key === 'readonly' || key === 'ro') m.ReadOnly = true;
      else if (key === 'volume-nocopy') volume().NoCopy = true;
      else if (key === 'bind-nonrecursive') bindo().NonRecursive = true;
      else throw new FlagError(FLAG, raw, `invalid field '${field}' must be a key=value pair`);
      continue;
    }
    switch (key) {
      case 'type':
        type = value;
        break;
      case 'source':
      case 'src':
        m.Source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = value;
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = parseBool(FLAG, raw, key, value);
        break;
      case 'consistency':
        m.Consistency = value;
        break;
      case 'bind-propagation':
        bindo().Propagation = value;
        break;
      case 'bind-nonrecursive':
        bindo().NonRecursive = parseBool(FLAG, raw, key, value);
        break;
      case 'bind-create-mountpoint':
        bindo().CreateMountpoint = parseBool(FLAG, raw, key, value);
        break;
      case 'bind-recursive':
        switch (value) {
          case 'enabled':
            break;
          case 'disabled':
            bindo().NonRecursive = true;
            break;
          case 'writable':
            bindo().ReadOnlyNonRecursive = true;
            break;
          case 'readonly':
            bindo().ReadOnlyForceRecursive = true;
            break;
          default:
            throw new FlagError(FLAG, raw, `invalid value for ${key}: ${value} (must be "enabled", "disabled", "writable", or "readonly")`);
        }
        break;
      case 'volume-nocopy':
        volume().NoCopy = parseBool(FLAG, raw, key, value);
        break;
      case 'volume-label': {
        const [k, ...v] = value.split('=');
        volume().Labels[k] = v.join('=');
        break;
      }
      case 'volume-driver':
        volume().DriverConfig.Name = value;
        break;
      case 'volume-subpath':
        volume().Subpath = value;
        break;
      case 'volume-opt': {
        const [k, ...v] = value.split('=');
        const dc = volume().DriverConfig;
        (dc.Options ??= {})[k] = v.join('=');
        break;
      }
      case 'tmpfs-size':
        try {
          tmpfs().SizeBytes = parseSize(value, FLAG);
        } catch {
          throw new FlagError(FLAG, raw, `invalid value for ${key}: ${value}`);
        }
        break;
      case 'tmpfs-mode': {
        if (!/^[0-7]+$/.test(value)) throw new FlagError(FLAG, raw, `invalid value for ${key}: ${value}`);
        tmpfs().Mode = parseInt(value, 8);
        break;
      }
      case 'image-subpath':
        imageOpt = true;
        m.ImageOptions = { Subpath: value };
        break;
      default:
        throw new FlagError(FLAG, raw, `unexpected key '${key}' in '${field}'`);
    }
  }
  if (!['bind', 'volume', 'tmpfs', 'image', 'npipe', 'cluster'].includes(type)) throw new FlagError(FLAG, raw, `invalid mount config for type "${type}": mount type unknown`);
  if (!m.Target) throw new FlagError(FLAG, raw, 'target is required');
  if (volumeOpt && type !== 'volume') throw new FlagError(FLAG, raw, `cannot mix 'volume-*' options with mount type '${type}'`);
  if (bindOpt && type !== 'bind') throw new FlagError(FLAG, raw, `cannot mix 'bind-*' options with mount type '${type}'`);
  if (tmpfsOpt && type !== 'tmpfs') throw new FlagError(FLAG, raw, `cannot mix 'tmpfs-*' options with mount type '${type}'`);
  if (imageOpt && type !== 'image') throw new FlagError(FLAG, raw, `cannot mix 'image-*' options with mount type '${type}'`);
  // Key order as docker marshals a mount.
  const out: Mount = { Type: type, ...(m.Source !== undefined ? { Source: m.Source } : {}), Target: m.Target };
  if (m.ReadOnly) out.ReadOnly = true;
  if (m.Consistency) out.Consistency = m.Consistency;
  if (m.BindOptions) out.BindOptions = m.BindOptions;
  if (m.VolumeOptions) out.VolumeOptions = m.VolumeOptions;
  if (m.TmpfsOptions) out.TmpfsOptions = m.TmpfsOptions;
  if (m.ImageOptions) out.ImageOptions = m.ImageOptions;
  return out;
}

/** --tmpfs /path[:options] into HostConfig.Tmpfs. */
export function parseTmpfs(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf(':');
    if (i < 0) out[v] = '';
    else out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}
