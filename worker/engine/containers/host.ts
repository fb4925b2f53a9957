import { promises as fs } from 'node:fs';
import os from 'node:os';
import { capabilitiesFromMask, ALL_CAPABILITIES } from '../runtime/capabilities';

/** Facts about this machine that container limits are checked against. */
export interface HostFacts {
  ncpu: number;
  /** The daemon's own nofile hard limit: containers cannot be given more without CAP_SYS_RESOURCE. */
  nofileHard: number;
  /** The daemon's bounding capability set: the most a privileged container can have. */
  capabilities: string[];
}

export function parseNofileHard(limits: string): number | undefined {
  const line = limits.split('\n').find((l) => l.startsWith('Max open files'));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/);
  const hard = f[4];
  return hard === 'unlimited' ? 1_048_576 : Number(hard) || undefined;
}

export async function hostFacts(): Promise<HostFacts> {
  const limits = await fs.readFile('/proc/self/limits', 'utf8').catch(() => '');
  const status = await fs.readFile('/proc/self/status', 'utf8').catch(() => '');
  const bnd = /^CapBnd:\s*([0-9a-f]+)/m.exec(status);
  return {
    ncpu: os.cpus().length || 1,
    nofileHard: Math.min(parseNofileHard(limits) ?? 1024, 1_048_576),
    capabilities: bnd ? capabilitiesFromMask(bnd[1]) : [...ALL_CAPABILITIES],
  };
}
