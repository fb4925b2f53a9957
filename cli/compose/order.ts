// depends_on as an execution order: each service's work runs once the services it depends on
// are done (start), or once the services depending on it are done (stop), independent ones
// side by side. Pure scheduling; the work itself is the caller's.

export interface Dependent {
  name: string;
  dependsOn: ReadonlyArray<{ service: string }>;
}

/** The selected services plus everything they depend on, transitively (compose's default without --no-deps). */
export function withDependencies<T extends Dependent>(services: readonly T[], selected: readonly string[]): T[] {
  if (!selected.length) return [...services];
  const byName = new Map(services.map((s) => [s.name, s]));
  const unknown = selected.filter((n) => !byName.has(n));
  if (unknown.length) throw new Error(`no such service: ${unknown[0]}`);
  const keep = new Set<string>();
  const visit = (n: string) => {
    if (keep.has(n) || !byName.has(n)) return;
    keep.add(n);
    for (const d of byName.get(n)!.dependsOn) visit(d.service);
  };
  selected.forEach(visit);
  return services.filter((s) => keep.has(s.name));
}

/**
 * Run `fn` for every service in dependency order: with `reverse`, dependents first. Services
 * outside `services` are not waited for. The first failure rejects; work already started
 * finishes, and services behind the failed one are not run.
 */
export async function inDependencyOrder<T extends Dependent>(services: readonly T[], fn: (s: T) => Promise<void>, opts: { reverse?: boolean } = {}): Promise<void> {
  const names = new Set(services.map((s) => s.name));
  const waitsFor = new Map<string, string[]>(services.map((s) => [s.name, []]));
  for (const s of services) {
    for (const d of s.dependsOn) {
      if (!names.has(d.service)) continue;
      if (opts.reverse) waitsFor.get(d.service)!.push(s.name);
      else waitsFor.get(s.name)!.push(d.service);
    }
  }
  const done = new Map<string, Promise<void>>();
  const run = (s: T): Promise<void> => {
    let p = done.get(s.name);
    if (!p) {
      p = Promise.all(waitsFor.get(s.name)!.map((n) => run(services.find((x) => x.name === n)!))).then(() => fn(s));
      done.set(s.name, p);
    }
    return p;
  };
  const all = services.map(run);
  // Wait for everything to settle so no work is still running when the caller reports.
  const results = await Promise.allSettled(all);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
