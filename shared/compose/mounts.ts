// The short volume syntax of a service: [source:]target[:options].
import type { BindPropagation } from '../swarm/types';

export const PROPAGATIONS: readonly BindPropagation[] = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];
export const MOUNT_TYPES = ['volume', 'bind', 'tmpfs'] as const;
export type ComposeMountType = (typeof MOUNT_TYPES)[number];

/** A service volume in either syntax, before names are scoped to the stack. */
export interface VolumeMountSpec {
  type: ComposeMountType;
  /** Volume name, host path, or undefined (anonymous volume, tmpfs). */
  source?: string;
  target: string;
  readOnly?: boolean;
  consistency?: string;
  propagation?: BindPropagation;
  noCopy?: boolean;
  tmpfsSize?: number;
}

// Options docker accepts in the short syntax; z/Z and the consistency flags change nothing on Linux.
const IGNORED_OPTIONS = new Set(['z', 'Z', 'cached', 'delegated', 'consistent']);

/** A source that names a host path rather than a volume. */
export function isHostPath(source: string): boolean {
  return source.startsWith('/') || source.startsWith('.') || source.startsWith('~');
}

/** Parse one short-form volume; throws an Error with a one-line message. */
export function parseVolumeSpec(spec: string): VolumeMountSpec {
  if (spec === '') throw new Error('invalid volume: empty spec');
  const parts = spec.split(':');
  if (parts.length > 3) throw new Error(`invalid volume '${spec}': too many colons`);
  if (parts.some((p) => p === '')) throw new Error(`invalid volume '${spec}': empty section between colons`);
  if (parts.length === 1) return { type: 'volume', target: checkTarget(parts[0], spec) };
  const [source, target, options] = parts;
  const m: VolumeMountSpec = { type: isHostPath(source) ? 'bind' : 'volume', source, target: checkTarget(target, spec) };
  for (const opt of options?.split(',') ?? []) {
    if (opt === 'ro') m.readOnly = true;
    else if (opt === 'rw') m.readOnly = false;
    else if (opt === 'nocopy') {
      if (m.type !== 'volume') throw new Error(`invalid volume '${spec}': nocopy applies to named volumes only`);
      m.noCopy = true;
    } else if (PROPAGATIONS.includes(opt as BindPropagation)) {
      if (m.type !== 'bind') throw new Error(`invalid volume '${spec}': propagation '${opt}' applies to bind mounts only`);
      m.propagation = opt as BindPropagation;
    } else if (!IGNORED_OPTIONS.has(opt)) throw new Error(`invalid volume '${spec}': unknown option '${opt}'`);
  }
  return m;
}

function checkTarget(target: string, spec: string): string {
  if (!target.startsWith('/')) throw new Error(`invalid volume '${spec}': the target '${target}' must be an absolute path`);
  return target;
}
