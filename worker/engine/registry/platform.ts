// Choosing one image manifest out of an OCI index or a Docker manifest list.
import { notFound } from '../../../shared/errors';
import type { Descriptor, ImageIndex, Platform } from './mediatypes';
import { isManifestType } from './mediatypes';

/** The platform this engine runs images for. Only linux/amd64 for now. */
export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

export function formatPlatform(p: Partial<Platform>): string {
  return [p.os ?? 'unknown', p.architecture ?? 'unknown', p.variant].filter(Boolean).join('/');
}

/** Parse "os/arch[/variant]" as given in ?platform= (empty means the default). */
export function parsePlatform(s: string | undefined): Platform {
  if (!s) return DEFAULT_PLATFORM;
  const [os, architecture, variant] = s.toLowerCase().split('/');
  return { os, architecture: architecture || DEFAULT_PLATFORM.architecture, ...(variant ? { variant } : {}) };
}

/**
 * Pick the manifest for `want` from an index. Entries that are attestations (OCI "unknown/unknown"
 * platforms) or not image manifests never match. An exact variant match wins over an entry
 * without a variant. NOT_FOUND names the platforms the index does have.
 */
export function selectPlatform(index: ImageIndex, want: Platform = DEFAULT_PLATFORM): Descriptor {
  const candidates = (index.manifests ?? []).filter((d) => d.platform && (d.mediaType === undefined || isManifestType(d.mediaType)));
  let best: Descriptor | undefined;
  let bestScore = -1;
  for (const d of candidates) {
    const p = d.platform!;
    if (p.os !== want.os || p.architecture !== want.architecture) continue;
    let score = 1;
    if (want.variant) {
      if (p.variant === want.variant) score = 3;
      else if (p.variant) continue;
    } else if (!p.variant) score = 2;
    if (score > bestScore) {
      best = d;
      bestScore = score;
    }
  }
  if (!best) {
    const have = candidates.map((d) => formatPlatform(d.platform!)).filter((p) => p !== 'unknown/unknown');
    throw notFound(`no matching manifest for ${formatPlatform(want)} in the manifest list entries${have.length ? ` (available: ${[...new Set(have)].join(', ')})` : ''}`);
  }
  return best;
}
