// shoal stack deploy|ls|ps|rm|services: docker's verbs, flags and output; the logic lives in
// cli/stack. Unlike docker 28, deploy waits by default (docker announces --detach=false as its
// future default): depends_on is honoured by waiting for each changed dependency to be ready.
import { Option } from 'commander';
import type { Cli } from '../context';
import { ExitError } from '../errors';
import { csvList, list, registerGroup, type CommandGroup, type ShoalCommand } from '../program';
import { SERVICE_HEADERS, SERVICE_TABLE, serviceRow } from '../format/services';
import { naturalCompare } from '../format/swarm';
import type { Service, Task } from '../format/swarm-types';
import { addFilter, filtersJson } from '../opts/filters';
import { oneOf, parseDuration } from '../opts/service/values';
import { deployStack, removeStacks, RESOLVE_IMAGE, STACK_HEADERS, STACK_TABLE, stackFilter, stackRow, summarizeStacks } from '../stack';
import { printRows } from './common';
import { printTasks, resolveNodeFilters } from './node';

/** docker's check: a name that is empty once quotes and spaces are trimmed. */
function validateStackName(ns: string): void {
  if (!ns.replace(/^[\s"']+|[\s"']+$/g, '')) throw new ExitError(1, `invalid stack name: ${JSON.stringify(ns)}`);
}

/** A stack's label filter added to the user's --filter values. */
function stackFilters(ns: string, user: string[] | undefined): string {
  return addFilter(filtersJson(user), 'label', stackFilter(ns));
}

function defineDeploy(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Deploy a new stack or update an existing stack')
    .argument('<stack>')
    .option('-c, --compose-file <strings>', 'Path to a Compose file (repeatable; later files override earlier ones)', csvList)
    .option('--prune', 'Prune services that are no longer referenced')
    .option('--resolve-image <string>', 'Query the registry to resolve image digest and supported platforms ("always", "changed", "never")', 'always')
    .option('--with-registry-auth', 'Send registry authentication details to Swarm agents')
    .option('-d, --detach', 'Exit once everything is sent: no wait for dependencies (creations stay in dependency order) or for the services to be ready')
    .option('-q, --quiet', 'Suppress progress output')
    .option('--wait-timeout <duration>', 'How long to wait for one service to be ready', '5m')
    .action(async (ns: string) => {
      const o = cmd.opts();
      validateStackName(ns);
      const files = (o.composeFile as string[] | undefined) ?? [];
      if (!files.length) throw new ExitError(1, 'Specify a Compose file (with --compose-file)');
      if (files.includes('-')) throw new ExitError(1, 'reading a Compose file from stdin ("-") is not supported: give a file name');
      const resolveImage = oneOf(o.resolveImage as string, '--resolve-image', RESOLVE_IMAGE);
      const waitTimeoutMs = parseDuration(o.waitTimeout as string, '--wait-timeout', { positive: true }) / 1e6;
      await deployStack(cli, { files, namespace: ns, prune: !!o.prune, withRegistryAuth: !!o.withRegistryAuth, resolveImage, detach: !!o.detach, quiet: !!o.quiet, waitTimeoutMs });
    });
}

function defineLs(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('List stacks')
    .option('--format <string>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'")
    .action(async () => {
      const services = await cli.client.get<Service[]>('/services', { query: { filters: JSON.stringify({ label: [stackFilter()] }) } });
      printRows(cli, summarizeStacks(services).map(stackRow), STACK_HEADERS, { format: cmd.opts().format, quietTemplate: '', defaultTable: STACK_TABLE });
    });
}

function defineServices(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('List the services in the stack')
    .argument('<stack>')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', list)
    .option('--format <string>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'")
    .option('-q, --quiet', 'Only display IDs')
    .action(async (ns: string) => {
      const o = cmd.opts();
      validateStackName(ns);
      const services = await cli.client.get<Service[]>('/services', { query: { filters: stackFilters(ns, o.filter), status: o.quiet ? undefined : 'true' } });
      if (!services.length) {
        cli.err(`Nothing found in stack: ${ns}\n`);
        return;
      }
      services.sort((a, b) => naturalCompare(a.Spec.Name ?? '', b.Spec.Name ?? ''));
      printRows(cli, services.map(serviceRow), SERVICE_HEADERS, { format: o.format, quiet: o.quiet, quietTemplate: '{{.ID}}', defaultTable: SERVICE_TABLE });
    });
}

function definePs(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('List the tasks in the stack')
    .argument('<stack>')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', list)
    .option('--format <string>', 'Format output using a custom template')
    .option('--no-resolve', 'Do not map IDs to Names')
    .option('--no-trunc', 'Do not truncate output')
    .option('-q, --quiet', 'Only display task IDs')
    .action(async (ns: string) => {
      const o = cmd.opts();
      validateStackName(ns);
      const user = await resolveNodeFilters(cli, o.filter as string[] | undefined);
      const tasks = await cli.client.get<Task[]>('/tasks', { query: { filters: stackFilters(ns, user) } });
      if (!tasks.length) throw new ExitError(1, `nothing found in stack: ${ns}`);
      await printTasks(cli, tasks, { format: o.format, quiet: o.quiet, trunc: !o.quiet && o.trunc !== false, noResolve: o.resolve === false });
    });
}

function defineRm(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Remove one or more stacks')
    .argument('<stack...>')
    .option('-d, --detach', 'Do not wait for stack removal (default true)')
    .addOption(new Option('--no-detach').hideHelp())
    .option('--network-timeout <duration>', 'How long to retry removing a network while its tasks stop', '1m')
    .action(async (names: string[]) => {
      const o = cmd.opts();
      names.forEach(validateStackName);
      const networkTimeoutMs = parseDuration(o.networkTimeout as string, '--network-timeout', { positive: true }) / 1e6;
      const errors = await removeStacks(cli, names, { detach: o.detach !== false, networkTimeoutMs });
      if (errors.length) throw new ExitError(1, errors.join('\n'));
    });
}

export const stackGroup: CommandGroup = {
  register(program, cli) {
    registerGroup(program, cli, 'stack', 'Manage Swarm stacks', [
      { name: 'deploy', aliases: ['up'], define: defineDeploy },
      { name: 'ls', aliases: ['list'], define: defineLs },
      { name: 'ps', define: definePs },
      { name: 'rm', aliases: ['remove', 'down'], define: defineRm },
      { name: 'services', define: defineServices },
    ]);
  },
};
