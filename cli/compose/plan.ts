// What `up` does to one service's containers, from what exists: keep, start, recreate,
// create or remove, by container number and config hash as docker compose decides. Pure.

export interface ObservedContainer {
  id: string;
  name: string;
  service: string;
  number: number;
  hash: string;
  /** The image ID the container was created from (compose's image label). */
  imageId?: string;
  running: boolean;
}

export type ContainerAction =
  | { kind: 'keep'; number: number; container: ObservedContainer }
  | { kind: 'start'; number: number; container: ObservedContainer }
  | { kind: 'recreate'; number: number; container: ObservedContainer }
  | { kind: 'create'; number: number }
  | { kind: 'remove'; container: ObservedContainer };

export interface DesiredService {
  name: string;
  replicas: number;
  hash: string;
  /** The image ID the service's image reference resolves to now, when known. */
  imageId?: string;
}

export interface PlanOptions {
  forceRecreate?: boolean;
  noRecreate?: boolean;
}

/** Actions for one service, numbers 1..replicas in order, then the removals (highest number first). */
export function planService(want: DesiredService, have: readonly ObservedContainer[], opts: PlanOptions = {}): ContainerAction[] {
  const mine = have.filter((c) => c.service === want.name).sort((a, b) => a.number - b.number || (a.name < b.name ? -1 : 1));
  const byNumber = new Map<number, ObservedContainer>();
  const extra: ObservedContainer[] = [];
  for (const c of mine) {
    if (c.number >= 1 && c.number <= want.replicas && !byNumber.has(c.number)) byNumber.set(c.number, c);
    else extra.push(c);
  }
  const out: ContainerAction[] = [];
  for (let n = 1; n <= want.replicas; n++) {
    const c = byNumber.get(n);
    if (!c) {
      out.push({ kind: 'create', number: n });
      continue;
    }
    const stale = c.hash !== want.hash || (want.imageId !== undefined && c.imageId !== undefined && c.imageId !== want.imageId);
    if (!opts.noRecreate && (opts.forceRecreate || stale)) out.push({ kind: 'recreate', number: n, container: c });
    else if (!c.running) out.push({ kind: 'start', number: n, container: c });
    else out.push({ kind: 'keep', number: n, container: c });
  }
  for (const c of extra.sort((a, b) => b.number - a.number)) out.push({ kind: 'remove', container: c });
  return out;
}

/** Containers of the project whose service the file no longer has. */
export function orphans(have: readonly ObservedContainer[], services: readonly string[]): ObservedContainer[] {
  const known = new Set(services);
  return have.filter((c) => !known.has(c.service));
}
