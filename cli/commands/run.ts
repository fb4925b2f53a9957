// run and create: flags -> ContainerCreate, pull when the image is missing, then for run
// attach -> wait -> start -> stream until exit, with docker's exit codes.
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { Cli } from '../context';
import { ApiError, EMPTY_AUTH } from '../client';
import { ExitError } from '../errors';
import { list, type ShoalCommand } from '../program';
import { buildCreateRequest, type CreateRequest, type RunFlags } from '../opts/run';
import { familiarString, parseRef, refName, withDefaultTag } from '../reference';
import { parseDetachKeys, pumpStreams } from '../io/attach';

/** The flags run and create share, with docker's names. */
export function addCreateFlags(cmd: ShoalCommand): ShoalCommand {
  return cmd
    .helpOption('--help', 'Print usage')
    .option('-a, --attach <stream>', 'Attach to STDIN, STDOUT or STDERR', list)
    .option('--add-host <host:ip>', 'Add a custom host-to-IP mapping (host:ip)', list)
    .option('--annotation <key=value>', 'Add an annotation to the container (passed through to the OCI runtime)', list)
    .option('--cap-add <cap>', 'Add Linux capabilities', list)
    .option('--cap-drop <cap>', 'Drop Linux capabilities', list)
    .option('--cgroup-parent <path>', 'Optional parent cgroup for the container')
    .option('--cgroupns <mode>', 'Cgroup namespace to use (host|private)')
    .option('--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period')
    .option('--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpus <decimal>', 'Number of CPUs')
    .option('--cpuset-cpus <cpus>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <mems>', 'MEMs in which to allow execution (0-3, 0,1)')
    .option('--device <device>', 'Add a host device to the container', list)
    .option('--dns <ip>', 'Set custom DNS servers', list)
    .option('--dns-option <option>', 'Set DNS options', list)
    .option('--dns-search <domain>', 'Set custom DNS search domains', list)
    .option('--domainname <name>', 'Container NIS domain name')
    .option('--entrypoint <command>', 'Overwrite the default ENTRYPOINT of the image')
    .option('-e, --env <KEY=VALUE>', 'Set environment variables', list)
    .option('--env-file <file>', 'Read in a file of environment variables', list)
    .option('--expose <port>', 'Expose a port or a range of ports', list)
    .option('--group-add <group>', 'Add additional groups to join', list)
    .option('--health-cmd <command>', 'Command to run to check health')
    .option('--health-interval <duration>', 'Time between running the check (ms|s|m|h)')
    .option('--health-retries <int>', 'Consecutive failures needed to report unhealthy')
    .option('--health-start-interval <duration>', 'Time between running the check during the start period (ms|s|m|h)')
    .option('--health-start-period <duration>', 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h)')
    .option('--health-timeout <duration>', 'Maximum time to allow one check to run (ms|s|m|h)')
    .option('-h, --hostname <name>', 'Container host name')
    .option('--init', 'Run an init inside the container that forwards signals and reaps processes')
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('--ip <address>', 'IPv4 address (e.g., 172.30.100.104)')
    .option('--ip6 <address>', 'IPv6 address (e.g., 2001:db8::33)')
    .option('--ipc <mode>', 'IPC mode to use')
    .option('-l, --label <KEY=VALUE>', 'Set meta data on a container', list)
    .option('--label-file <file>', 'Read in a line delimited file of labels', list)
    .option('--log-driver <driver>', 'Logging driver for the container')
    .option('--log-opt <KEY=VALUE>', 'Log driver options', list)
    .option('--mac-address <mac>', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)')
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-reservation <bytes>', 'Memory soft limit')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    .option('--memory-swappiness <int>', 'Tune container memory swappiness (0 to 100)')
    .option('--mount <mount>', 'Attach a filesystem mount to the container', list)
    .option('--name <name>', 'Assign a name to the container')
    .option('--network <network>', 'Connect a container to a network', list)
    .option('--net <network>', 'Connect a container to a network (alias of --network)', list)
    .option('--network-alias <alias>', 'Add network-scoped alias for the container', list)
    .option('--net-alias <alias>', 'Add network-scoped alias for the container (alias of --network-alias)', list)
    .option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK')
    .option('--oom-kill-disable', 'Disable OOM Killer')
    .option('--oom-score-adj <int>', "Tune host's OOM preferences (-1000 to 1000)")
    .option('--pid <mode>', 'PID namespace to use')
    .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)')
    .option('--platform <platform>', 'Set platform if server is multi-platform capable')
    .option('--privileged', 'Give extended privileges to this container')
    .option('-p, --publish <port>', "Publish a container's port(s) to the host", list)
    .option('-P, --publish-all', 'Publish all exposed ports to random ports')
    .option('--pull <policy>', 'Pull image before running ("always", "missing", "never")')
    .option('-q, --quiet', 'Suppress the pull output')
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('--restart <policy>', 'Restart policy to apply when a container exits (default "no")')
    .option('--rm', 'Automatically remove the container and its associated anonymous volumes when it exits')
    .option('--runtime <runtime>', 'Runtime to use for this container')
    .option('--security-opt <option>', 'Security Options', list)
    .option('--shm-size <bytes>', 'Size of /dev/shm')
    .option('--stop-signal <signal>', 'Signal to stop the container')
    .option('--stop-timeout <int>', 'Timeout (in seconds) to stop a container')
    .option('--sysctl <KEY=VALUE>', 'Sysctl options', list)
    .option('--tmpfs <path>', 'Mount a tmpfs directory', list)
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('--ulimit <ulimit>', 'Ulimit options', list)
    .option('-u, --user <user>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('--userns <mode>', 'User namespace to use')
    .option('--uts <mode>', 'UTS namespace to use')
    .option('-v, --volume <volume>', 'Bind mount a volume', list)
    .option('--volumes-from <container>', 'Mount volumes from the specified container(s)', list)
    .option('-w, --workdir <dir>', 'Working directory inside the container') as ShoalCommand;
}

/** Commander's parsed options into RunFlags. */
export function runFlags(o: Record<string, unknown>): RunFlags {
  const nets = [...((o.network as string[]) ?? []), ...((o.net as string[]) ?? [])];
  const aliases = [...((o.networkAlias as string[]) ?? []), ...((o.netAlias as string[]) ?? [])];
  return { ...(o as RunFlags), network: nets.length ? nets : undefined, networkAlias: aliases.length ? aliases : undefined };
}

function createDeps(cli: Cli) {
  return { readFile: (p: string) => readFileSync(p), lookupEnv: (k: string) => cli.io.env[k], cwd: cli.io.cwd };
}

/** Pull an image with progress to `out`, as `docker pull` and `docker run` do. */
export async function pullImage(cli: Cli, image: string, out: { write(s: string | Buffer): unknown }, opts: { platform?: string; allTags?: boolean } = {}): Promise<void> {
  const ref = parseRef(image);
  const tag = ref.digest ?? ref.tag ?? (opts.allTags ? undefined : 'latest');
  await cli.client.progress('POST', '/images/create', { query: { fromImage: refName(ref), tag, platform: opts.platform }, headers: EMPTY_AUTH }, out);
}

function isImageNotFound(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404 && /image/i.test(e.message);
}

/** Create the container (pulling its image first when missing); returns its ID. */
export async function createContainer(cli: Cli, req: CreateRequest, quiet = false): Promise<string> {
  const image = req.body.Image;
  const display = familiarString(withDefaultTag(parseRef(image)));
  const progressOut = quiet ? { write: () => undefined } : cli.io.stderr;
  const pull = async () => {
    await pullImage(cli, image, progressOut, { platform: req.platform });
  };
  if (req.pull === 'always') await pull();
  const create = () => cli.client.post<{ Id: string; Warnings?: string[] | null }>('/containers/create', { query: { name: req.name, platform: req.platform }, body: req.body });
  let res: { Id: string; Warnings?: string[] | null };
  try {
    res = await create();
  } catch (e) {
    if (!isImageNotFound(e) || req.pull !== 'missing') throw e;
    cli.err(`Unable to find image '${display}' locally\n`);
    await pull();
    res = await create();
  }
  for (const w of res.Warnings ?? []) cli.err(`WARNING: ${w}\n`);
  return res.Id;
}

/**
 * docker's exit code for a start failure: 127 not found, 126 cannot be invoked, else 125.
 * crun reports a directory as the command with EPERM ("Operation not permitted"), runc with EACCES.
 */
export function startFailureCode(message: string): number {
  if (/executable file not found|no such file or directory|system cannot find the file specified/i.test(message)) return 127;
  if (/permission denied|is a directory|operation not permitted/i.test(message)) return 126;
  return 125;
}

export function defineCreate(cmd: ShoalCommand, cli: Cli): void {
  addCreateFlags(cmd.description('Create a new container').argument('<image>').argument('[command...]').passThroughOptions().markRunLike()).action(async (image: string, args: string[]) => {
    const req = buildCreateRequest(runFlags(cmd.opts()), image, args, createDeps(cli));
    const id = await createContainer(cli, req, !!cmd.opts().quiet);
    cli.line(id);
  });
}

export function defineRun(cmd: ShoalCommand, cli: Cli): void {
  addCreateFlags(cmd.description('Create and run a new container from an image').argument('<image>').argument('[command...]').passThroughOptions().markRunLike())
    .option('-d, --detach', 'Run container in background and print container ID')
    .option('--detach-keys <keys>', 'Override the key sequence for detaching a container')
    .option('--no-sig-proxy', 'Do not proxy received signals to the process')
    .action(async (image: string, args: string[]) => {
      const o = cmd.opts();
      const flags = runFlags(o);
      const req = buildCreateRequest(flags, image, args, createDeps(cli));
      cli.exitCode = await runContainer(cli, req, flags);
    });
}

async function runContainer(cli: Cli, req: CreateRequest, f: RunFlags): Promise<number> {
  const io = cli.io;
  const tty = !!f.tty;
  const interactive = !!f.interactive;
  if (tty && interactive && !io.stdin.isTTY) throw new ExitError(1, 'the input device is not a TTY');
  if (f.detachKeys !== undefined) parseDetachKeys(f.detachKeys);
  if (tty && io.stdout.isTTY && io.stdout.rows && io.stdout.columns) req.body.HostConfig.ConsoleSize = [io.stdout.rows, io.stdout.columns];
  const id = await createContainer(cli, req, !!f.quiet);
  if (f.detach) {
    await startOrFail(cli, id, !!f.rm);
    cli.line(id);
    return 0;
  }
  const b = req.body;
  const client = cli.client;
  const socket = b.AttachStdin || b.AttachStdout || b.AttachStderr ? await client.hijack('POST', `/containers/${id}/attach`, { query: { stream: 1, stdin: b.AttachStdin ? 1 : undefined, stdout: b.AttachStdout ? 1 : undefined, stderr: b.AttachStderr ? 1 : undefined } }) : undefined;
  // Register the wait before starting, so a quick exit is not missed.
  const wait = client.early('POST', `/containers/${id}/wait`, { query: { condition: f.rm ? 'removed' : 'next-exit' } });
  // A daemon that holds its headers back until the exit must not block the start forever.
  await Promise.race([wait.headers, delay(2000, undefined, { ref: false })]);
  const pump = socket ? pumpStreams(socket, io, { tty, stdin: !!b.AttachStdin, detachKeys: f.detachKeys, resize: (h, w) => client.post(`/containers/${id}/resize`, { query: { h, w } }) }) : undefined;
  const signals = !tty && f.sigProxy !== false ? proxySignals(cli, id) : undefined;
  try {
    await startOrFail(cli, id, !!f.rm);
    pump?.resizeNow();
    // Detached with the escape keys: the container goes on, the CLI ends successfully.
    if (pump && (await pump.done).detached) return 0;
    const { status, body } = await wait.result;
    if (status >= 400) return await exitCodeAfterWaitFailure(cli, id);
    const parsed = JSON.parse(body.toString() || '{}') as { StatusCode?: number; Error?: { Message?: string } | null };
    if (parsed.Error?.Message) {
      cli.err(`shoal: Error response from daemon: ${parsed.Error.Message}\n`);
      return 125;
    }
    return parsed.StatusCode ?? 0;
  } finally {
    pump?.stop();
    socket?.destroy();
    signals?.();
  }
}

async function startOrFail(cli: Cli, id: string, autoRemove = false): Promise<void> {
  try {
    await cli.client.post(`/containers/${id}/start`);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    // --rm: a container that never ran is removed too (dockerd does it; make sure).
    if (autoRemove) await cli.client.delete(`/containers/${id}`, { query: { force: 1, v: 1 } }).catch(() => undefined);
    throw new ExitError(startFailureCode(e.message), `shoal: Error response from daemon: ${e.message}`);
  }
}

async function exitCodeAfterWaitFailure(cli: Cli, id: string): Promise<number> {
  try {
    const c = await cli.client.get<{ State?: { ExitCode?: number } }>(`/containers/${id}/json`);
    return c.State?.ExitCode ?? 0;
  } catch {
    return 0;
  }
}

/** Forward SIGINT/SIGTERM/SIGHUP to the container while attached (docker's --sig-proxy). */
export function proxySignals(cli: Cli, id: string): () => void {
  const handlers: Array<[NodeJS.Signals, () => void]> = (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as NodeJS.Signals[]).map((sig) => [sig, () => void cli.client.post(`/containers/${id}/kill`, { query: { signal: sig } }).catch(() => undefined)]);
  for (const [sig, h] of handlers) process.on(sig, h);
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}
