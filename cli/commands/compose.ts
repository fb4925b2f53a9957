// shoal compose: the stack files of `stack deploy`, run without a swarm as docker compose does
// (up, down, ps, logs, stop, start). The logic lives in cli/compose; this is flags and output.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatStackErrors, isStackError } from '../../shared/compose';
import type { Cli } from '../context';
import { ExitError } from '../errors';
import { list, type CommandGroup, type ShoalCommand } from '../program';
import { parseInteger } from '../opts/values';
import { printRows } from './common';
import {
  chooseFiles,
  COMPOSE_PS_HEADERS,
  COMPOSE_PS_TABLE,
  composePsRow,
  down,
  loadProject,
  OneNodeError,
  ProjectApi,
  projectName,
  ProjectError,
  start,
  stop,
  streamLogs,
  up,
  type ComposeProject,
} from '../compose';

interface Target {
  name: string;
  files: string[];
  cwd: string;
}

function globalOpts(cmd: ShoalCommand): { file?: string[]; projectName?: string; projectDirectory?: string } {
  return (cmd.parent as ShoalCommand).opts();
}

/** The project's files and name from the global flags and the environment. */
function target(cli: Cli, cmd: ShoalCommand, needFiles: boolean): Target {
  const o = globalOpts(cmd);
  const cwd = o.projectDirectory ? resolve(cli.io.cwd, o.projectDirectory) : cli.io.cwd;
  const choice = chooseFiles({ flags: o.file, env: cli.io.env, cwd, exists: existsSync });
  const haveName = o.projectName !== undefined || !!cli.io.env.COMPOSE_PROJECT_NAME;
  if (!choice.files.length && (needFiles || !haveName)) throw new ExitError(1, 'no configuration file provided: not found');
  try {
    return { name: projectName({ flag: o.projectName, env: cli.io.env, files: choice.files, cwd }), files: choice.files, cwd };
  } catch (e) {
    if (e instanceof ProjectError) throw new ExitError(1, e.message);
    throw e;
  }
}

/** Load and validate; an invalid file ends the command with every error, file:line:col each. */
async function load(cli: Cli, t: Target): Promise<ComposeProject> {
  try {
    return await loadProject({ name: t.name, files: t.files, env: cli.io.env, cwd: t.cwd });
  } catch (e) {
    if (isStackError(e)) throw new ExitError(1, formatStackErrors(e.issues));
    if (e instanceof OneNodeError) throw new ExitError(1, e.message);
    throw e;
  }
}

const timeoutOpt = (v: string | undefined) => (v === undefined ? undefined : parseInteger(v, '-t, --timeout'));

function defineUp(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Create and start containers')
    .argument('[service...]')
    .option('-d, --detach', 'Detached mode: Run containers in the background')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('--force-recreate', "Recreate containers even if their configuration and image haven't changed")
    .option('--no-recreate', "If containers already exist, don't recreate them")
    .option('--no-color', 'Produce monochrome output')
    .option('--no-log-prefix', "Don't print prefix in logs")
    .option('-t, --timeout <seconds>', 'Use this timeout in seconds for container shutdown')
    .action(async (services: string[]) => {
      const o = cmd.opts();
      const project = await load(cli, target(cli, cmd, true));
      cli.exitCode = await up(cli, project, {
        services,
        detach: !!o.detach,
        removeOrphans: !!o.removeOrphans,
        forceRecreate: !!o.forceRecreate,
        noRecreate: o.recreate === false,
        noColor: o.color === false,
        noLogPrefix: o.logPrefix === false,
        timeout: timeoutOpt(o.timeout),
      });
    });
}

function defineDown(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Stop and remove containers, networks')
    .option('-v, --volumes', 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds')
    .action(async () => {
      const o = cmd.opts();
      const t = target(cli, cmd, false);
      const project = t.files.length ? await load(cli, t) : undefined;
      await down(cli, t.name, project, { volumes: !!o.volumes, removeOrphans: !!o.removeOrphans, timeout: timeoutOpt(o.timeout) });
    });
}

function definePs(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('List containers')
    .argument('[service...]')
    .option('-a, --all', 'Show all stopped containers (including those created by the run command)')
    .option('-q, --quiet', 'Only display IDs')
    .option('--format <format>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'")
    .option('--services', 'Display services')
    .option('--status <status>', 'Filter services by status (paused, restarting, removing, running, dead, created, exited)', list)
    .action(async (services: string[]) => {
      const o = cmd.opts();
      const api = new ProjectApi(cli, target(cli, cmd, false).name);
      let found = await api.containers({ runningOnly: !o.all && !o.status, services });
      if (o.status) found = found.filter((c) => (o.status as string[]).includes(c.summary.State ?? ''));
      if (o.services) {
        for (const s of [...new Set(found.map((c) => c.service))].sort()) cli.line(s);
        return;
      }
      if (o.quiet) {
        for (const c of found) cli.line(c.id);
        return;
      }
      const now = Date.now();
      printRows(cli, found.map((c) => composePsRow(c.summary, now)), COMPOSE_PS_HEADERS, { format: o.format, quietTemplate: '{{.ID}}', defaultTable: COMPOSE_PS_TABLE });
    });
}

function defineLogs(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('View output from containers')
    .argument('[service...]')
    .option('-f, --follow', 'Follow log output')
    .option('-n, --tail <lines>', 'Number of lines to show from the end of the logs for each container (default "all")')
    .option('-t, --timestamps', 'Show timestamps')
    .option('--no-color', 'Produce monochrome output')
    .option('--no-log-prefix', "Don't print prefix in logs")
    .action(async (services: string[]) => {
      const o = cmd.opts();
      const api = new ProjectApi(cli, target(cli, cmd, false).name);
      const found = await api.containers({ services });
      const prefix = o.logPrefix !== false;
      await streamLogs(cli, api, found, { follow: !!o.follow, tail: o.tail, timestamps: !!o.timestamps, prefix, color: o.color !== false && !!cli.io.stdout.isTTY });
    });
}

function defineStop(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Stop services')
    .argument('[service...]')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds')
    .action(async (services: string[]) => {
      await stop(cli, target(cli, cmd, false).name, services, timeoutOpt(cmd.opts().timeout));
    });
}

function defineStart(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Start services')
    .argument('[service...]')
    .action(async (services: string[]) => {
      await start(cli, target(cli, cmd, false).name, services);
    });
}

const SUBS: Array<[string, (cmd: ShoalCommand, cli: Cli) => void]> = [
  ['down', defineDown],
  ['logs', defineLogs],
  ['ps', definePs],
  ['start', defineStart],
  ['stop', defineStop],
  ['up', defineUp],
];

export const composeGroup: CommandGroup = {
  register(program, cli) {
    const compose = program
      .command('compose')
      .description('Run stack files on this node without a swarm, as docker compose does')
      .option('-f, --file <file>', 'Compose configuration files', list)
      .option('-p, --project-name <name>', 'Project name')
      .option('--project-directory <dir>', 'Alternate working directory: where default files are looked for and -f paths start (default: the current directory)')
      // -f is also logs --follow: the group's flags come before the subcommand, as docker compose's.
      .enablePositionalOptions() as ShoalCommand;
    for (const [name, define] of SUBS) define(compose.command(name) as ShoalCommand, cli);
  },
};
