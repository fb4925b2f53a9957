// Every failure of a command becomes one message on stderr and an exit code, as docker's:
// daemon refusals "Error response from daemon: ...", a daemon that is down "Cannot connect ...",
// run/create failures 125 with a "shoal: " prefix. Never a stack trace.
import { CommanderError } from 'commander';
import { ApiError } from '../shared/client';
import { isShoalError } from '../shared/errors';
import { FlagError, OptionError } from './opts/errors';
import { StreamError } from './format/progress';
import { TemplateError } from './format/template';
import { HostError } from './host';
import { ReferenceError } from './reference';

/** End the command with this code, printing `message` (if any) on stderr. */
export class ExitError extends Error {
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
    this.name = 'ExitError';
  }
}

/** A usage error commander has already printed. */
export class UsageError extends Error {
  constructor(
    readonly code: number,
    readonly inner: CommanderError,
  ) {
    super(inner.message);
    this.name = 'UsageError';
  }
}

export interface ErrorContext {
  /** The daemon address, for "Cannot connect". */
  host: string;
  /** run/create: docker exits 125 when the container could not be created or started. */
  runLike: boolean;
  /** "run", "container ls"...: for the help hint. */
  command?: string;
}

export interface ExitReport {
  message?: string;
  code: number;
}

export function cannotConnect(host: string): string {
  return `Cannot connect to the shoal daemon at ${host}. Is shoald running?`;
}

export function describeError(err: unknown, ctx: ErrorContext): ExitReport {
  const hint = ctx.command ? `\nSee 'shoal ${ctx.command} --help'.` : '';
  const prefix = ctx.runLike ? 'shoal: ' : '';
  const base = ctx.runLike ? 125 : 1;
  if (err instanceof ExitError) return { message: err.message || undefined, code: err.code };
  if (err instanceof UsageError) return { code: err.code };
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return { code: 0 };
    return { code: base };
  }
  if (err instanceof FlagError) return { message: `${err.message}${hint}`, code: base };
  if (err instanceof OptionError) return { message: `${prefix}${err.message}${ctx.runLike ? hint : ''}`, code: base };
  if (err instanceof ApiError) return { message: `${prefix}Error response from daemon: ${err.message}`, code: base };
  if (isShoalError(err, 'UNAVAILABLE') || isShoalError(err, 'CANCELLED')) return { message: `${prefix}${cannotConnect(ctx.host)}`, code: base };
  if (err instanceof StreamError) return { message: `${prefix}${err.message}`, code: base };
  if (err instanceof TemplateError || err instanceof ReferenceError || err instanceof HostError) return { message: `${prefix}${err.message}`, code: base };
  if (err instanceof Error) return { message: `${prefix}${err.message}`, code: base };
  return { message: `${prefix}${String(err)}`, code: base };
}
