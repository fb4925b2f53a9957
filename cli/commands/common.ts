// Helpers the command groups share: per-object loops, list rendering, inspect, prune.
import type { Cli } from '../context';
import { ApiError } from '../client';
import { ExitError } from '../errors';
import { parseFormat, renderRows, type Row } from '../format/formatter';
import { TemplateError } from '../format/template';
import { inspectTemplate, renderInspect } from '../format/inspect';
import { humanSize } from '../format/human';
import { confirm } from '../io/prompt';

/**
 * Run `fn` for each name; print what it returns (the name by default, nothing for null) on success and
 * "Error response from daemon: ..." on failure, continuing with the next. Exit 1 if any failed.
 */
export async function forEachTarget(cli: Cli, names: string[], fn: (name: string) => Promise<string | null | void>): Promise<void> {
  let failed = false;
  for (const n of names) {
    try {
      const out = await fn(n);
      if (out !== null) cli.line(out === undefined ? n : out);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      cli.err(`Error response from daemon: ${e.message}\n`);
      failed = true;
    }
  }
  if (failed) cli.exitCode = 1;
}

/** Print rows with --format (table/json/template) semantics; -q picks the quiet template. */
export function printRows(cli: Cli, rows: Row[], headers: Row, opts: { format?: string; quiet?: boolean; quietTemplate: string; defaultTable: string }): void {
  const fmt = opts.quiet ? parseFormat(opts.quietTemplate, opts.defaultTable) : parseFormat(opts.format, opts.defaultTable);
  try {
    cli.out(renderRows(fmt, rows, headers));
  } catch (e) {
    if (e instanceof TemplateError) throw new ExitError(1, e.message);
    throw e;
  }
}

/**
 * Inspect objects by name with `get`; objects not found are reported after the output
 * (docker prints what it found, then the errors), exit 1.
 */
export async function inspectObjects(cli: Cli, names: string[], format: string | undefined, get: (name: string) => Promise<unknown>): Promise<void> {
  const tmpl = inspectTemplate(format);
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const n of names) {
    try {
      found.push(await get(n));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) errors.push(`Error response from daemon: ${e.message}`);
      else throw e;
    }
  }
  if (found.length || !tmpl) cli.out(renderInspect(found, tmpl));
  if (errors.length) throw new ExitError(1, errors.join('\n'));
}

/** The prune flow: confirm unless -f, call the endpoint, list what went and the space reclaimed. */
export async function prune(cli: Cli, opts: { force?: boolean; warning: string; run: () => Promise<{ deleted: string[]; title: string; space?: number }> }): Promise<void> {
  if (!opts.force && !(await confirm(cli, opts.warning))) return;
  const r = await opts.run();
  if (r.deleted.length) cli.out(`${r.title}:\n${r.deleted.join('\n')}\n\n`);
  if (r.space !== undefined) cli.line(`Total reclaimed space: ${humanSize(r.space)}`);
}

/** Path segment for an object name (IDs, names, image references with slashes and tags). */
export const seg = (s: string) => encodeURIComponent(s).replace(/%2F/gi, '/').replace(/%3A/gi, ':').replace(/%40/g, '@');
