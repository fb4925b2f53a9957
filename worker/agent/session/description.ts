// What this node tells the managers about itself (Docker's NodeDescription): the scheduler's
// resource and platform filters read it, and `docker node inspect` shows it.
import os from 'node:os';
import type { Labels, NodeDescription } from '../../../shared/swarm';
import { SHOAL_VERSION } from '../../api/system';

export interface DescriptionOptions {
  /** Default os.hostname(). */
  hostname?: string;
  /** Default the shoal version. */
  engineVersion?: string;
  /** Engine labels (daemon configuration); used by node.labels-style constraints on engine.labels. */
  labels?: Labels;
}

/** Docker reports the architecture as uname -m does. */
export function unameArch(nodeArch: string = os.arch()): string {
  return ({ x64: 'x86_64', arm64: 'aarch64', arm: 'armv7l', ia32: 'i386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[nodeArch] ?? nodeArch;
}

export function gatherNodeDescription(opts: DescriptionOptions = {}): NodeDescription {
  return {
    Hostname: opts.hostname ?? os.hostname(),
    Platform: { Architecture: unameArch(), OS: os.platform() },
    Resources: { NanoCPUs: os.cpus().length * 1e9, MemoryBytes: os.totalmem() },
    Engine: {
      EngineVersion: opts.engineVersion ?? SHOAL_VERSION,
      Labels: { ...opts.labels },
      Plugins: [
        { Type: 'Log', Name: 'json-file' },
        { Type: 'Network', Name: 'bridge' },
        { Type: 'Network', Name: 'host' },
        { Type: 'Network', Name: 'null' },
        { Type: 'Network', Name: 'overlay' },
        { Type: 'Volume', Name: 'local' },
      ],
    },
  };
}
