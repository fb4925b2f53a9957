import type { Cli } from '../context';
import { ExitError } from '../errors';
import { list, registerGroup, type CommandGroup, type ShoalCommand } from '../program';
import { sortedKeys } from '../format/formatter';
import { VOLUME_HEADERS, VOLUME_TABLE, volumeRow, type VolumeSummary } from '../format/objects';
import { addFilter, filtersJson } from '../opts/filters';
import { parseKeyValues } from '../opts/values';
import { forEachTarget, inspectObjects, printRows, prune, seg } from './common';

const volPath = (n: string) => `/volumes/${seg(n)}`;

function defineCreate(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Create a volume')
    .argument('[volume]')
    .option('-d, --driver <driver>', 'Specify volume driver name (default "local")')
    .option('--label <key=value>', 'Set metadata for a volume', list)
    .option('-o, --opt <key=value>', 'Set driver specific options', list)
    .option('--name <name>', 'Specify volume name')
    .action(async (name: string | undefined) => {
      const o = cmd.opts();
      if (name && o.name && name !== o.name) throw new ExitError(1, `conflicting options: cannot specify a volume-name through both --name and as a positional arg`);
      const r = await cli.client.post<{ Name: string }>('/volumes/create', {
        body: { Driver: o.driver ?? 'local', DriverOpts: parseKeyValues(o.opt ?? [], '-o, --opt'), Labels: parseKeyValues(o.label ?? [], '--label'), Name: name ?? o.name ?? '' },
      });
      cli.line(r.Name);
    });
}

function defineLs(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('List volumes')
    .option('-f, --filter <filter>', 'Provide filter values (e.g. "dangling=true")', list)
    .option('--format <format>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'")
    .option('-q, --quiet', 'Only display volume names')
    .action(async () => {
      const o = cmd.opts();
      const r = await cli.client.get<{ Volumes?: VolumeSummary[] | null; Warnings?: string[] | null }>('/volumes', { query: { filters: filtersJson(o.filter) } });
      const vols = [...(r.Volumes ?? [])].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
      printRows(cli, vols.map(volumeRow), VOLUME_HEADERS, { format: o.format, quiet: o.quiet, quietTemplate: '{{.Name}}', defaultTable: VOLUME_TABLE });
      for (const w of r.Warnings ?? []) cli.err(`${w}\n`);
    });
}

function defineInspect(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Display detailed information on one or more volumes')
    .argument('<volume...>')
    .option('-f, --format <format>', "Format output using a custom template: 'json' or 'TEMPLATE'")
    .action(async (names: string[]) => {
      // docker re-marshals a volume from its (alphabetically ordered) type: same keys, same order
      await inspectObjects(cli, names, cmd.opts().format, async (n) => sortedKeys(await cli.client.get<Record<string, unknown>>(volPath(n))));
    });
}

function defineRm(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Remove one or more volumes. You cannot remove a volume that is in use by a container.')
    .argument('<volume...>')
    .option('-f, --force', 'Force the removal of one or more volumes')
    .action(async (names: string[]) => {
      const force = !!cmd.opts().force;
      await forEachTarget(cli, names, async (n) => void (await cli.client.delete(volPath(n), { query: { force: force ? 1 : undefined } })));
    });
}

function definePrune(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Remove unused local volumes')
    .option('-a, --all', 'Remove all unused volumes, not just anonymous ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "label=<label>")', list)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async () => {
      const o = cmd.opts();
      await prune(cli, {
        force: o.force,
        warning: o.all ? 'WARNING! This will remove all local volumes not used by at least one container.' : 'WARNING! This will remove anonymous local volumes not used by at least one container.',
        run: async () => {
          let filters = filtersJson(o.filter, '--filter');
          if (o.all) filters = addFilter(filters, 'all', 'true');
          const r = await cli.client.post<{ VolumesDeleted?: string[] | null; SpaceReclaimed?: number }>('/volumes/prune', { query: { filters } });
          return { title: 'Deleted Volumes', deleted: r.VolumesDeleted ?? [], space: r.SpaceReclaimed ?? 0 };
        },
      });
    });
}

export const volumeGroup: CommandGroup = {
  register(program, cli) {
    registerGroup(program, cli, 'volume', 'Manage volumes', [
      { name: 'create', define: defineCreate },
      { name: 'inspect', define: defineInspect },
      { name: 'ls', aliases: ['list'], define: defineLs },
      { name: 'prune', define: definePrune },
      { name: 'rm', aliases: ['remove'], define: defineRm },
    ]);
  },
};
