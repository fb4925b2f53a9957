// What a watch consumer has been told so far (object -> version), so that after a re-list the
// watch can yield just the difference as ordinary puts and deletes.
import { versionOf, type Kind, type StoreEvent, type StoredObject } from './types';

export class KnownObjects {
  private readonly mods = new Map<string, { kind: Kind; id: string; mod: number }>();

  constructor(snapshot: Partial<Record<Kind, StoredObject[]>>) {
    for (const [kind, items] of Object.entries(snapshot) as Array<[Kind, StoredObject[]]>) {
      for (const o of items) this.mods.set(`${kind}/${o.ID}`, { kind, id: o.ID, mod: versionOf(o) });
    }
  }

  /** Record an event as delivered. */
  apply(ev: StoreEvent): void {
    const k = `${ev.kind}/${ev.id}`;
    if (ev.type === 'put') this.mods.set(k, { kind: ev.kind, id: ev.id, mod: versionOf(ev.object) });
    else this.mods.delete(k);
  }

  /** The events that turn what was delivered into `list` (read at `revision`); records them. */
  diff(list: Partial<Record<Kind, StoredObject[]>>, revision: number): StoreEvent[] {
    const out: StoreEvent[] = [];
    const seen = new Set<string>();
    for (const [kind, items] of Object.entries(list) as Array<[Kind, StoredObject[]]>) {
      for (const o of items) {
        const k = `${kind}/${o.ID}`;
        seen.add(k);
        const had = this.mods.get(k);
        if (had?.mod !== versionOf(o)) out.push({ kind, type: 'put', id: o.ID, object: o, created: had === undefined, revision });
      }
    }
    for (const [k, v] of this.mods) if (!seen.has(k)) out.push({ kind: v.kind, type: 'delete', id: v.id, revision });
    for (const ev of out) this.apply(ev);
    return out;
  }
}
