// Shares one object among equal JSON values: the thousands of tasks of a service carry the same
// spec, so the cache keeps it once, and a task whose spec is its service's template holds the
// very same object, which lets spec comparisons succeed on identity before comparing contents.
// Reference counts let a spec go once no cached object holds it.

export class Interner<T extends object> {
  private readonly entries = new Map<string, { value: T; refs: number }>();
  private readonly keys = new WeakMap<T, string>();

  /** The shared object equal to `v` (v itself if it is the first); counts one more holder. */
  intern(v: T): T {
    const key = JSON.stringify(v);
    let e = this.entries.get(key);
    if (!e) {
      e = { value: v, refs: 0 };
      this.entries.set(key, e);
      this.keys.set(v, key);
    }
    e.refs++;
    return e.value;
  }

  /** One holder of a shared object let go of it. */
  release(v: T): void {
    const key = this.keys.get(v);
    if (key === undefined) return;
    const e = this.entries.get(key);
    if (!e || e.value !== v) return;
    if (--e.refs <= 0) this.entries.delete(key);
  }

  /** Distinct values held. */
  get size(): number {
    return this.entries.size;
  }
}
