// shoal secret create|ls|inspect|rm, and (with the same code, see config.ts) shoal config:
// docker's verbs, flags and output. Data comes from a file or stdin ("-"); the daemon checks
// it (names, sizes, drivers), so both CLIs give the same refusals.
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import type { Cli } from '../context';
import { ApiError } from '../client';
import { ExitError } from '../errors';
import { list, registerGroup, type CommandGroup, type ShoalCommand } from '../program';
import { contextRow, withMethods, type Row } from '../format/formatter';
import { humanDuration } from '../format/human';
import { goTimeUTC, naturalCompare } from '../format/swarm';
import { filtersJson } from '../opts/filters';
import { parseKeyValues } from '../opts/values';
import { forEachTarget, inspectObjects, printRows, seg } from './common';

/** A secret or config as the API returns it. */
export interface PayloadJson {
  ID: string;
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec?: { Name?: string; Labels?: Record<string, string> | null; Data?: string; Driver?: { Name?: string } | null; Templating?: { Name?: string } | null };
}

export interface PayloadCli {
  noun: 'secret' | 'config';
  plural: 'secrets' | 'configs';
  table: string;
  headers: Row;
  row(o: PayloadJson, now: number): Row;
  pretty(o: PayloadJson): string;
  /** Extra create flags (secret: --driver). */
  createFlags?(cmd: ShoalCommand): void;
  createBody?(opts: Record<string, unknown>): Record<string, unknown>;
}

export const ago = (iso: string | undefined, now: number) => `${humanDuration(now - Date.parse(iso ?? ''))} ago`;
export const labelList = (l: Record<string, string> | null | undefined) =>
  Object.keys(l ?? {})
    .sort()
    .map((k) => `${k}=${l![k]}`)
    .join(',');

/** " - k=v" lines under "Labels:", as docker's pretty templates print them. */
export function prettyLabels(l: Record<string, string> | null | undefined): string {
  const keys = Object.keys(l ?? {}).sort();
  if (!keys.length) return '';
  return `\nLabels:${keys.map((k) => `\n - ${k}${l![k] ? `=${l![k]}` : ''}`).join('')}`;
}

export const SECRET_CLI: PayloadCli = {
  noun: 'secret',
  plural: 'secrets',
  table: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.CreatedAt}}\t{{.UpdatedAt}}',
  headers: withMethods({ ID: 'ID', Name: 'NAME', Driver: 'DRIVER', CreatedAt: 'CREATED', UpdatedAt: 'UPDATED', Labels: 'LABELS' }, { Label: () => 'LABEL' }),
  row: (o, now) => {
    const labels = o.Spec?.Labels ?? {};
    return contextRow(
      { CreatedAt: ago(o.CreatedAt, now), Driver: o.Spec?.Driver?.Name ?? '', ID: o.ID, Labels: labelList(labels), Name: o.Spec?.Name ?? '', UpdatedAt: ago(o.UpdatedAt, now) },
      { Label: (k: unknown) => labels[String(k)] ?? '' },
    );
  },
  pretty: (o) =>
    `ID:              ${o.ID}\nName:              ${o.Spec?.Name ?? ''}${prettyLabels(o.Spec?.Labels)}\nDriver:            ${o.Spec?.Driver?.Name ?? ''}\nCreated at:        ${goTimeUTC(o.CreatedAt)}\nUpdated at:        ${goTimeUTC(o.UpdatedAt)}\n`,
  createFlags: (cmd) => void cmd.option('-d, --driver <string>', 'Secret driver'),
  createBody: (o) => (o.driver ? { Driver: { Name: o.driver } } : {}),
};

const daemonError = (e: unknown): never => {
  if (e instanceof ApiError) throw new ExitError(1, `Error response from daemon: ${e.message}`);
  throw e;
};

/** The data to send: a file's bytes, or stdin's for "-". */
async function readData(cli: Cli, noun: string, file: string | undefined): Promise<Buffer> {
  if (file === undefined) throw new ExitError(1, `${noun} data must be given: a file name, or - for stdin`);
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of cli.io.stdin as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(c));
    return Buffer.concat(chunks);
  }
  try {
    return await fs.readFile(resolve(cli.io.cwd, file));
  } catch (e) {
    throw new ExitError(1, `error reading content from "${file}": ${(e as Error).message}`);
  }
}

function defineCreate(k: PayloadCli) {
  return (cmd: ShoalCommand, cli: Cli) => {
    cmd
      .description(`Create a ${k.noun} from a file or STDIN as content`)
      .argument(`<${k.noun}>`)
      .argument('[file|-]')
      .option('-l, --label <key=value>', `${k.noun[0].toUpperCase()}${k.noun.slice(1)} labels`, list)
      .option('--template-driver <string>', 'Template driver');
    k.createFlags?.(cmd);
    cmd.action(async (name: string, file: string | undefined) => {
      const o = cmd.opts();
      const data = await readData(cli, k.noun, file);
      const body: Record<string, unknown> = { Name: name, Labels: parseKeyValues(o.label ?? [], '-l, --label'), Data: data.toString('base64'), ...(k.createBody?.(o) ?? {}) };
      if (o.templateDriver) body.Templating = { Name: o.templateDriver };
      const r = await cli.client.post<{ ID: string }>(`/${k.plural}/create`, { body });
      cli.line(r.ID);
    });
  };
}

function defineLs(k: PayloadCli) {
  return (cmd: ShoalCommand, cli: Cli) =>
    cmd
      .description(`List ${k.plural}`)
      .option('-f, --filter <filter>', 'Filter output based on conditions provided', list)
      .option('--format <string>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'")
      .option('-q, --quiet', 'Only display IDs')
      .action(async () => {
        const o = cmd.opts();
        const items = await cli.client.get<PayloadJson[]>(`/${k.plural}`, { query: { filters: filtersJson(o.filter) } });
        items.sort((a, b) => naturalCompare(a.Spec?.Name ?? '', b.Spec?.Name ?? ''));
        const now = Date.now();
        printRows(cli, items.map((x) => k.row(x, now)), k.headers, { format: o.format, quiet: o.quiet, quietTemplate: '{{.ID}}', defaultTable: k.table });
      });
}

function defineInspect(k: PayloadCli) {
  return (cmd: ShoalCommand, cli: Cli) =>
    cmd
      .description(`Display detailed information on one or more ${k.plural}`)
      .argument(`<${k.noun}...>`)
      .option('-f, --format <string>', "Format output using a custom template: 'json' or 'TEMPLATE'")
      .option('--pretty', 'Print the information in a human friendly format')
      .action(async (refs: string[]) => {
        const o = cmd.opts();
        const get = (ref: string) => cli.client.get<PayloadJson>(`/${k.plural}/${seg(ref)}`);
        const pretty = !!o.pretty || o.format === 'pretty';
        if (!pretty) {
          if (o.format?.startsWith('pretty')) throw new ExitError(1, 'cannot supply extra formatting options to the pretty template');
          return inspectObjects(cli, refs, o.format, get);
        }
        // Each object is read before anything is printed: a missing one ends the command, as docker's pretty form does.
        const objects: PayloadJson[] = [];
        for (const ref of refs) objects.push(await get(ref).catch(daemonError));
        cli.out(objects.map(k.pretty).join(''));
      });
}

function defineRm(k: PayloadCli) {
  return (cmd: ShoalCommand, cli: Cli) =>
    cmd
      .description(`Remove one or more ${k.plural}`)
      .argument(`<${k.noun}...>`)
      .action(async (refs: string[]) => {
        await forEachTarget(cli, refs, async (ref) => void (await cli.client.delete(`/${k.plural}/${seg(ref)}`)));
      });
}

/** The command group for secrets or configs. */
export function payloadGroup(k: PayloadCli, description: string): CommandGroup {
  return {
    register(program, cli) {
      registerGroup(program, cli, k.noun, description, [
        { name: 'create', define: defineCreate(k) },
        { name: 'inspect', define: defineInspect(k) },
        { name: 'ls', aliases: ['list'], define: defineLs(k) },
        { name: 'rm', aliases: ['remove'], define: defineRm(k) },
      ]);
    },
  };
}

export const secretGroup = payloadGroup(SECRET_CLI, 'Manage Swarm secrets');
