// The node's OS and architecture must be one the service's image supports (when it says).
import { nodeCount, type Filter } from './filter';
import type { PlatformView } from '../types';

// Images and nodes name some architectures differently (uname vs Go/OCI names).
const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64' };
const arch = (a: string | undefined) => (a ? ARCH_ALIASES[a] ?? a : '');

/** An empty OS or architecture in the supported platform matches any. */
function supports(p: PlatformView, node: PlatformView): boolean {
  return (!p.Architecture || arch(p.Architecture) === arch(node.Architecture)) && (!p.OS || p.OS === node.OS);
}

export const platformFilter: Filter = {
  name: 'platform',
  reason: 'platform',
  appliesTo: (task) => !!task.Spec?.Placement?.Platforms?.length,
  check: (task, info) => {
    const wanted = task.Spec?.Placement?.Platforms;
    if (!wanted?.length) return true;
    const have = info.node.Description?.Platform;
    return !!have && wanted.some((p) => supports(p, have));
  },
  explain: (count) => `unsupported platform on ${nodeCount(count)}`,
};
