// Stack file problems are collected, never thrown one by one: a user fixing a stack file wants
// every error in one go, each pointing at file:line:column.
import { ShoalError } from '../errors';

/** Where a value sits in a stack file (1-based line and column). */
export interface Pos {
  file: string;
  line: number;
  column: number;
}

/** One error found in a stack file. */
export interface StackIssue extends Pos {
  message: string;
}

/** Thrown by loadStack when any file is invalid; carries every error found. */
export class StackError extends ShoalError {
  readonly issues: StackIssue[];
  constructor(issues: StackIssue[]) {
    super('INVALID_ARGUMENT', summary(issues));
    this.name = 'StackError';
    this.issues = issues;
  }
}

export function isStackError(err: unknown): err is StackError {
  return err instanceof StackError;
}

function summary(issues: StackIssue[]): string {
  if (issues.length === 1) return formatIssue(issues[0]);
  return `${issues.length} errors in stack file: ${formatIssue(issues[0])} (and ${issues.length - 1} more)`;
}

export function formatIssue(i: StackIssue): string {
  return `${i.file}:${i.line}:${i.column}: ${i.message}`;
}

/** One line per error, in file then line order, for the CLI. */
export function formatStackErrors(issues: readonly StackIssue[]): string {
  return sortIssues(issues).map(formatIssue).join('\n');
}

export function sortIssues(issues: readonly StackIssue[]): StackIssue[] {
  const fileOrder = new Map<string, number>();
  for (const i of issues) if (!fileOrder.has(i.file)) fileOrder.set(i.file, fileOrder.size);
  return [...issues].sort((a, b) => fileOrder.get(a.file)! - fileOrder.get(b.file)! || a.line - b.line || a.column - b.column);
}

/** The collector every stage writes into. */
export class Issues {
  readonly list: StackIssue[] = [];
  add(pos: Pos, message: string): void {
    // One error per place: the first is the cause (a failed substitution, say) and later
    // ones about the same value are its consequences; an anchor reached twice reports once.
    if (this.list.some((i) => i.file === pos.file && i.line === pos.line && i.column === pos.column)) return;
    this.list.push({ file: pos.file, line: pos.line, column: pos.column, message });
  }
  get empty(): boolean {
    return this.list.length === 0;
  }
  throwIfAny(): void {
    if (!this.empty) throw new StackError(sortIssues(this.list));
  }
}
