// The container group (shoal container ...) and docker's top-level shortcuts (run, ps, rm ...).
import { readFileSync } from 'node:fs';
import type { Cli } from '../context';
import { ExitError } from '../errors';
import { list, registerGroup, type CommandGroup, type ShoalCommand, type SubCommand } from '../program';
import { containerRow, PS_HEADERS, PS_TABLE, PS_TABLE_SIZE, type ContainerSummary } from '../format/containers';
import { tabulate } from '../format/tabwriter';
import { filtersJson } from '../opts/filters';
import { apiTimestamp } from '../opts/time';
import { buildEnv } from '../opts/env';
import { parseInteger } from '../opts/values';
import { parseRef, refName } from '../reference';
import { pumpStreams } from '../io/attach';
import { Demuxer, StreamType } from '../../shared/api/stdcopy';
import { defineCreate, defineRun, proxySignals } from './run';
import { forEachTarget, inspectObjects, printRows, prune, seg } from './common';

interface ContainerInspect {
  Id: string;
  Config?: { Tty?: boolean; OpenStdin?: boolean };
  State?: { Running?: boolean; Paused?: boolean; Restarting?: boolean; ExitCode?: number };
}

type Define = (cmd: ShoalCommand, cli: Cli) => void;

const containerPath = (n: string) => `/containers/${seg(n)}`;

function defineStart(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Start one or more stopped containers')
    .argument('<container...>')
    .option('-a, --attach', 'Attach STDOUT/STDERR and forward signals')
    .option('-i, --interactive', "Attach container's STDIN")
    .option('--detach-keys <keys>', 'Override the key sequence for detaching a container')
    .action(async (names: string[]) => {
      const o = cmd.opts();
      if (!o.attach && !o.interactive) {
        await forEachTarget(cli, names, async (n) => void (await cli.client.post(`${containerPath(n)}/start`)));
        return;
      }
      if (names.length > 1) throw new ExitError(1, 'you cannot start and attach multiple containers at once');
      const c = await cli.client.get<ContainerInspect>(`${containerPath(names[0])}/json`);
      const tty = !!c.Config?.Tty;
      const stdin = !!o.interactive && !!c.Config?.OpenStdin;
      if (tty && stdin && !cli.io.stdin.isTTY) throw new ExitError(1, 'the input device is not a TTY');
      const socket = await cli.client.hijack('POST', `${containerPath(c.Id)}/attach`, { query: { stream: 1, stdin: stdin ? 1 : undefined, stdout: 1, stderr: 1 } });
      const pump = pumpStreams(socket, cli.io, { tty, stdin, detachKeys: o.detachKeys, resize: (h, w) => cli.client.post(`${containerPath(c.Id)}/resize`, { query: { h, w } }) });
      const unproxy = tty ? undefined : proxySignals(cli, c.Id);
      try {
        await cli.client.post(`${containerPath(c.Id)}/start`);
        pump.resizeNow();
        if ((await pump.done).detached) return;
        cli.exitCode = await exitCodeOf(cli, c.Id);
      } finally {
        pump.stop();
        socket.destroy();
        unproxy?.();
      }
    });
}

/** The container's exit code once it has stopped (waiting for it if it is still running). */
async function exitCodeOf(cli: Cli, id: string): Promise<number> {
  const c = await cli.client.get<ContainerInspect>(`${containerPath(id)}/json`).catch(() => undefined);
  if (c && !c.State?.Running) return c.State?.ExitCode ?? 0;
  const w = await cli.client.post<{ StatusCode?: number }>(`${containerPath(id)}/wait`).catch(() => undefined);
  return w?.StatusCode ?? 0;
}

function defineStopLike(verb: 'stop' | 'restart', description: string): Define {
  return (cmd, cli) =>
    cmd
      .description(description)
      .argument('<container...>')
      .option('-s, --signal <signal>', 'Signal to send to the container')
      .option('-t, --timeout <seconds>', 'Seconds to wait before killing the container')
      .option('--time <seconds>', 'Seconds to wait before killing the container (deprecated: use --timeout)')
      .action(async (names: string[]) => {
        const o = cmd.opts();
        const t = o.timeout ?? o.time;
        const timeout = t === undefined ? undefined : parseInteger(t, '-t, --timeout');
        await forEachTarget(cli, names, async (n) => void (await cli.client.post(`${containerPath(n)}/${verb}`, { query: { signal: o.signal, t: timeout } })));
      });
}

function defineKill(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Kill one or more running containers')
    .argument('<container...>')
    .option('-s, --signal <signal>', 'Signal to send to the container')
    .action(async (names: string[]) => {
      const sig = cmd.opts().signal;
      await forEachTarget(cli, names, async (n) => void (await cli.client.post(`${containerPath(n)}/kill`, { query: { signal: sig } })));
    });
}

function defineSimple(verb: 'pause' | 'unpause', description: string): Define {
  return (cmd, cli) =>
    cmd
      .description(description)
      .argument('<container...>')
      .action(async (names: string[]) => {
        await forEachTarget(cli, names, async (n) => void (await cli.client.post(`${containerPath(n)}/${verb}`)));
      });
}

function defineRm(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Remove one or more containers')
    .argument('<container...>')
    .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
    .option('-l, --link', 'Remove the specified link')
    .option('-v, --volumes', 'Remove anonymous volumes associated with the container')
    .action(async (names: string[]) => {
      const o = cmd.opts();
      await forEachTarget(cli, names, async (n) => void (await cli.client.delete(containerPath(n), { query: { force: o.force ? 1 : undefined, v: o.volumes ? 1 : undefined, link: o.link ? 1 : undefined } })));
    });
}

function definePs(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('List containers')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', list)
    .option('--format <format>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'")
    .option('-n, --last <int>', 'Show n last created containers (includes all states)')
    .option('-l, --latest', 'Show the latest created container (includes all states)')
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only display container IDs')
    .option('-s, --size', 'Display total file sizes')
    .action(async () => {
      const o = cmd.opts();
      let limit = o.last === undefined ? -1 : parseInteger(o.last, '-n, --last');
      if (o.latest) limit = 1;
      const withSize = !!o.size || (typeof o.format === 'string' && o.format.includes('.Size'));
      const list = await cli.client.get<ContainerSummary[]>('/containers/json', {
        query: { all: o.all || limit > 0 ? 1 : undefined, limit: limit > 0 ? limit : undefined, size: withSize ? 1 : undefined, filters: filtersJson(o.filter) },
      });
      const now = Date.now();
      const rows = list.map((c) => containerRow(c, { trunc: o.trunc !== false, now }));
      printRows(cli, rows, PS_HEADERS, { format: o.format, quiet: o.quiet, quietTemplate: '{{.ID}}', defaultTable: o.size ? PS_TABLE_SIZE : PS_TABLE });
    });
}

function defineLogs(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Fetch the logs of a container')
    .argument('<container>')
    .option('--details', 'Show extra details provided to logs')
    .option('-f, --follow', 'Follow log output')
    .option('--since <time>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .option('-n, --tail <lines>', 'Number of lines to show from the end of the logs (default "all")')
    .option('-t, --timestamps', 'Show timestamps')
    .option('--until <time>', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .action(async (name: string) => {
      const o = cmd.opts();
      const c = await cli.client.get<ContainerInspect>(`${containerPath(name)}/json`);
      const now = Date.now();
      const stream = await cli.client.stream('GET', `${containerPath(c.Id)}/logs`, {
        query: {
          stdout: 1,
          stderr: 1,
          since: o.since === undefined ? undefined : apiTimestamp(o.since, now),
          until: o.until === undefined ? undefined : apiTimestamp(o.until, now),
          timestamps: o.timestamps ? 1 : undefined,
          follow: o.follow ? 1 : undefined,
          tail: o.tail ?? 'all',
          details: o.details ? 1 : undefined,
        },
      });
      await copyOutput(cli, stream, !!c.Config?.Tty);
    });
}

/** Copy a logs/attach body: raw for a TTY container, demultiplexed otherwise. */
async function copyOutput(cli: Cli, stream: AsyncIterable<Buffer>, tty: boolean): Promise<void> {
  const demux = new Demuxer();
  for await (const chunk of stream) {
    if (tty) {
      cli.out(chunk);
      continue;
    }
    for (const f of demux.push(chunk)) (f.stream === StreamType.Stderr ? cli.io.stderr : cli.io.stdout).write(f.data);
  }
}

function defineExec(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Execute a command in a running container')
    .argument('<container>')
    .argument('<command...>')
    .passThroughOptions()
    .option('-d, --detach', 'Detached mode: run command in the background')
    .option('--detach-keys <keys>', 'Override the key sequence for detaching a container')
    .option('-e, --env <KEY=VALUE>', 'Set environment variables', list)
    .option('--env-file <file>', 'Read in a file of environment variables', list)
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('--privileged', 'Give extended privileges to the command')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('-u, --user <user>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .action(async (name: string, command: string[]) => {
      const o = cmd.opts();
      const io = cli.io;
      const tty = !!o.tty;
      const interactive = !!o.interactive;
      if (tty && interactive && !io.stdin.isTTY) throw new ExitError(1, 'the input device is not a TTY');
      const env = buildEnv(o.envFile ?? [], o.env ?? [], (p) => readFileSync(p), (k) => io.env[k]);
      const consoleSize = tty && io.stdout.isTTY && io.stdout.rows ? [io.stdout.rows, io.stdout.columns ?? 80] : undefined;
      const created = await cli.client.post<{ Id: string }>(`${containerPath(name)}/exec`, {
        body: {
          User: o.user ?? '',
          Privileged: !!o.privileged,
          Tty: tty,
          ConsoleSize: consoleSize,
          AttachStdin: interactive && !o.detach,
          AttachStderr: !o.detach,
          AttachStdout: !o.detach,
          Detach: !!o.detach,
          DetachKeys: o.detachKeys ?? '',
          Env: env.length ? env : undefined,
          WorkingDir: o.workdir ?? '',
          Cmd: command,
        },
      });
      const execPath = `/exec/${created.Id}`;
      if (o.detach) {
        await cli.client.post(`${execPath}/start`, { body: { Detach: true, Tty: tty, ConsoleSize: consoleSize } });
        return;
      }
      const socket = await cli.client.hijack('POST', `${execPath}/start`, { body: { Detach: false, Tty: tty, ConsoleSize: consoleSize } });
      const pump = pumpStreams(socket, io, { tty, stdin: interactive, detachKeys: o.detachKeys, resize: (h, w) => cli.client.post(`${execPath}/resize`, { query: { h, w } }) });
      try {
        pump.resizeNow();
        if ((await pump.done).detached) return;
      } finally {
        pump.stop();
        socket.destroy();
      }
      const info = await cli.client.get<{ ExitCode?: number | null; Running?: boolean }>(`${execPath}/json`);
      cli.exitCode = info.ExitCode ?? 0;
    });
}

function defineAttach(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Attach local standard input, output, and error streams to a running container')
    .argument('<container>')
    .option('--detach-keys <keys>', 'Override the key sequence for detaching a container')
    .option('--no-stdin', 'Do not attach STDIN')
    .option('--no-sig-proxy', 'Do not proxy received signals to the process')
    .action(async (name: string) => {
      const o = cmd.opts();
      const c = await cli.client.get<ContainerInspect>(`${containerPath(name)}/json`);
      if (!c.State?.Running) throw new ExitError(1, 'You cannot attach to a stopped container, start it first');
      if (c.State?.Paused) throw new ExitError(1, 'You cannot attach to a paused container, unpause it first');
      if (c.State?.Restarting) throw new ExitError(1, 'You cannot attach to a restarting container, wait until it is running');
      const tty = !!c.Config?.Tty;
      const stdin = o.stdin !== false && !!c.Config?.OpenStdin;
      if (tty && stdin && !cli.io.stdin.isTTY) throw new ExitError(1, 'the input device is not a TTY');
      const socket = await cli.client.hijack('POST', `${containerPath(c.Id)}/attach`, { query: { stream: 1, stdin: stdin ? 1 : undefined, stdout: 1, stderr: 1 } });
      const pump = pumpStreams(socket, cli.io, { tty, stdin, detachKeys: o.detachKeys, resize: (h, w) => cli.client.post(`${containerPath(c.Id)}/resize`, { query: { h, w } }) });
      const unproxy = !tty && o.sigProxy !== false ? proxySignals(cli, c.Id) : undefined;
      try {
        pump.resizeNow();
        if ((await pump.done).detached) return;
      } finally {
        pump.stop();
        socket.destroy();
        unproxy?.();
      }
      cli.exitCode = await exitCodeOf(cli, c.Id);
    });
}

function defineWait(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Block until one or more containers stop, then print their exit codes')
    .argument('<container...>')
    .action(async (names: string[]) => {
      await forEachTarget(cli, names, async (n) => {
        const r = await cli.client.post<{ StatusCode?: number; Error?: { Message?: string } | null }>(`${containerPath(n)}/wait`);
        return String(r.StatusCode ?? 0);
      });
    });
}

function defineInspect(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Display detailed information on one or more containers')
    .argument('<container...>')
    .option('-f, --format <format>', "Format output using a custom template: 'json' or 'TEMPLATE'")
    .option('-s, --size', 'Display total file sizes')
    .action(async (names: string[]) => {
      const o = cmd.opts();
      await inspectObjects(cli, names, o.format, (n) => cli.client.get(`${containerPath(n)}/json`, { query: { size: o.size ? 1 : undefined } }));
    });
}

function defineCommit(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description("Create a new image from a container's changes")
    .argument('<container>')
    .argument('[repository]')
    .option('-a, --author <author>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-c, --change <instruction>', 'Apply Dockerfile instruction to the created image', list)
    .option('-m, --message <message>', 'Commit message')
    .option('-p, --pause', 'Pause container during commit (default true)')
    .option('--no-pause', 'Do not pause the container during commit')
    .action(async (name: string, repository: string | undefined) => {
      const o = cmd.opts();
      let repo: string | undefined;
      let tag: string | undefined;
      if (repository) {
        const ref = parseRef(repository);
        if (ref.digest) throw new ExitError(1, 'refusing to create a tag with a digest reference');
        repo = refName(ref);
        tag = ref.tag;
      }
      const r = await cli.client.post<{ Id: string }>('/commit', {
        query: { container: name, repo, tag, comment: o.message, author: o.author, pause: o.pause === false ? 0 : undefined, changes: o.change },
      });
      cli.line(r.Id);
    });
}

function defineTop(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Display the running processes of a container')
    .argument('<container>')
    .argument('[ps_options...]')
    .passThroughOptions()
    .action(async (name: string, psArgs: string[]) => {
      const r = await cli.client.get<{ Titles: string[]; Processes: string[][] }>(`${containerPath(name)}/top`, { query: { ps_args: psArgs.length ? psArgs.join(' ') : undefined } });
      const text = [r.Titles.join('\t'), ...(r.Processes ?? []).map((p) => p.join('\t'))].join('\n') + '\n';
      cli.out(tabulate(text, { minwidth: 20, padding: 3 }));
    });
}

function definePrune(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Remove all stopped containers')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', list)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async () => {
      const o = cmd.opts();
      await prune(cli, {
        force: o.force,
        warning: 'WARNING! This will remove all stopped containers.',
        run: async () => {
          const r = await cli.client.post<{ ContainersDeleted?: string[] | null; SpaceReclaimed?: number }>('/containers/prune', { query: { filters: filtersJson(o.filter, '--filter') } });
          return { title: 'Deleted Containers', deleted: r.ContainersDeleted ?? [], space: r.SpaceReclaimed ?? 0 };
        },
      });
    });
}

function defineRename(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Rename a container')
    .argument('<container>')
    .argument('<new-name>')
    .action(async (name: string, newName: string) => {
      await cli.client.post(`${containerPath(name)}/rename`, { query: { name: newName } });
    });
}

function definePort(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('List port mappings or a specific mapping for the container')
    .argument('<container>')
    .argument('[private_port]')
    .action(async (name: string, port: string | undefined) => {
      const c = await cli.client.get<{ NetworkSettings?: { Ports?: Record<string, Array<{ HostIp: string; HostPort: string }> | null> } }>(`${containerPath(name)}/json`);
      const ports = c.NetworkSettings?.Ports ?? {};
      const show = (b: { HostIp: string; HostPort: string }) => (b.HostIp.includes(':') ? `[${b.HostIp}]:${b.HostPort}` : `${b.HostIp || '0.0.0.0'}:${b.HostPort}`);
      if (port) {
        const key = port.includes('/') ? port : `${port}/tcp`;
        const bindings = ports[key];
        if (!bindings || !bindings.length) throw new ExitError(1, `Error: No public port '${key}' published for ${name}`);
        for (const b of bindings) cli.line(show(b));
        return;
      }
      for (const key of Object.keys(ports).sort((a, b) => parseInt(a, 10) - parseInt(b, 10))) for (const b of ports[key] ?? []) cli.line(`${key} -> ${show(b)}`);
    });
}

const SUBS: SubCommand[] = [
  { name: 'attach', top: 'attach', define: defineAttach },
  { name: 'commit', top: 'commit', define: defineCommit },
  { name: 'create', top: 'create', define: defineCreate },
  { name: 'exec', top: 'exec', define: defineExec },
  { name: 'inspect', define: defineInspect },
  { name: 'kill', top: 'kill', define: defineKill },
  { name: 'logs', top: 'logs', define: defineLogs },
  { name: 'ls', aliases: ['ps', 'list'], top: 'ps', define: definePs },
  { name: 'pause', top: 'pause', define: defineSimple('pause', 'Pause all processes within one or more containers') },
  { name: 'port', top: 'port', define: definePort },
  { name: 'prune', define: definePrune },
  { name: 'rename', top: 'rename', define: defineRename },
  { name: 'restart', top: 'restart', define: defineStopLike('restart', 'Restart one or more containers') },
  { name: 'rm', aliases: ['remove'], top: 'rm', define: defineRm },
  { name: 'run', top: 'run', define: defineRun },
  { name: 'start', top: 'start', define: defineStart },
  { name: 'stop', top: 'stop', define: defineStopLike('stop', 'Stop one or more running containers') },
  { name: 'top', top: 'top', define: defineTop },
  { name: 'unpause', top: 'unpause', define: defineSimple('unpause', 'Unpause all processes within one or more containers') },
  { name: 'wait', top: 'wait', define: defineWait },
];

export const containerGroup: CommandGroup = {
  register(program, cli) {
    registerGroup(program, cli, 'container', 'Manage containers', SUBS);
  },
};
