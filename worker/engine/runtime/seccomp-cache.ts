import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { OciRuntime } from './oci';
import type { OciSpec } from './spec';

/** crun's annotation for a ready-made seccomp filter (base64 BPF); crun then skips compiling. */
export const SECCOMP_BPF_ANNOTATION = 'run.oci.seccomp_bpf_data';

/**
 * Compiled seccomp filters, by profile. crun compiles the profile with libseccomp on every
 * create (a few ms, a quarter of `crun create`) and leaves the result in its state directory as
 * seccomp.bpf; later containers with the same profile get that filter through the annotation.
 * runc has no such annotation, so only crun specs are touched.
 */
export class SeccompCache {
  private readonly filters = new Map<string, string>();

  private static key(spec: OciSpec): string | undefined {
    const profile = spec.linux.seccomp;
    return profile ? createHash('sha256').update(JSON.stringify(profile)).digest('hex') : undefined;
  }

  /** Give the spec its compiled filter when one is known; the seccomp section stays for readers. */
  annotate(spec: OciSpec, runtime: OciRuntime): void {
    const key = SeccompCache.key(spec);
    const bpf = key && runtime.name === 'crun' ? this.filters.get(key) : undefined;
    if (bpf) spec.annotations = { ...spec.annotations, [SECCOMP_BPF_ANNOTATION]: bpf };
  }

  /** After a create without the annotation: keep what crun compiled. */
  async learn(spec: OciSpec, runtime: OciRuntime, id: string): Promise<void> {
    const key = SeccompCache.key(spec);
    if (!key || runtime.name !== 'crun' || this.filters.has(key) || spec.annotations?.[SECCOMP_BPF_ANNOTATION]) return;
    const bpf = await fs.readFile(join(runtime.root, id, 'seccomp.bpf')).catch(() => undefined);
    // A BPF program is a whole number of 8-byte instructions; anything else is not one.
    if (bpf && bpf.length > 0 && bpf.length % 8 === 0) this.filters.set(key, bpf.toString('base64'));
  }
}
