// depends_on as start ordering: services are applied level by level, a service's level being
// one more than the deepest of its dependencies, so everything a service needs is applied (and,
// when it changed, awaited) before it. Swarm itself ignores depends_on (moby#40364).

export interface DependencyNode {
  /** The scoped service name ("app_web"). */
  name: string;
  /** Scoped names of the services it depends on (others than the stack's are ignored). */
  dependsOn: readonly string[];
}

/**
 * Names grouped by level, each level sorted by name. The loader refuses cycles; one here
 * (a plan built by hand) is an error naming the services in it.
 */
export function dependencyLevels(nodes: readonly DependencyNode[]): string[][] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const level = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (name: string, trail: string[]): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    if (visiting.has(name)) throw new Error(`dependency cycle: ${[...trail.slice(trail.indexOf(name)), name].join(' -> ')}`);
    visiting.add(name);
    let l = 0;
    for (const d of byName.get(name)!.dependsOn) if (byName.has(d)) l = Math.max(l, visit(d, [...trail, name]) + 1);
    visiting.delete(name);
    level.set(name, l);
    return l;
  };
  for (const n of nodes) visit(n.name, []);
  const out: string[][] = [];
  for (const [name, l] of level) (out[l] ??= []).push(name);
  return out.map((names) => names.sort());
}
