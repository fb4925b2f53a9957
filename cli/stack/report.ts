// What a deploy that stopped half-way tells the user: what it applied, what it did not, and
// that running it again finishes the job (a deploy leaves alone what is already as wanted).

export class DeployJournal {
  readonly applied: string[] = [];
  /** The step being applied or waited for when the deploy stopped. */
  current?: string;

  constructor(readonly planned: readonly string[]) {}

  /** Run one planned step, recording it as applied once `fn` succeeds. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.current = name;
    const r = await fn();
    this.applied.push(name);
    this.current = undefined;
    return r;
  }
}

/** The summary printed on stderr when a deploy fails after it started writing. */
export function formatDeploySummary(namespace: string, journal: Pick<DeployJournal, 'planned' | 'applied' | 'current'>, error: string): string {
  const applied = new Set(journal.applied);
  const notApplied = journal.planned.filter((s) => !applied.has(s));
  const lines = [`failed to deploy stack ${namespace}: ${error}`];
  if (journal.applied.length) lines.push(`Applied (${journal.applied.length} of ${journal.planned.length}):`, ...journal.applied.map((s) => ` - ${s}`));
  else lines.push('Applied: nothing');
  if (notApplied.length) lines.push(`Not applied (${notApplied.length}):`, ...notApplied.map((s) => ` - ${s}${s === journal.current ? ' (failed)' : ''}`));
  if (notApplied.length) lines.push('Deploying the same files again finishes the job: what is already applied is left as it is.');
  else lines.push('Every change was applied; what failed is a service becoming ready (see its tasks with stack ps).');
  return `${lines.join('\n')}\n`;
}
