// shoal swarm ca|init|join|join-token|leave|unlock|unlock-key|update, with docker's flags,
// messages and API calls. ca, unlock and unlock-key live in ./swarm/.
import type { Cli } from '../context';
import { ApiError } from '../client';
import { ExitError } from '../errors';
import { csvList, registerGroup, type CommandGroup, type ShoalCommand } from '../program';
import type { Node, Swarm, SwarmInfo, SwarmInitRequest, SwarmSpec, WithNullLabels } from '../format/swarm-types';
import { FlagError } from '../opts/errors';
import { parseGoDuration, parseInteger } from '../opts/values';
import { oneOf, parseUint } from '../opts/service/values';
import { Option } from 'commander';
import { defineCa, EXTERNAL_CA_REFUSAL } from './swarm/ca';
import { updateQuery, type SwarmCli } from './swarm/common';
import { defineUnlock } from './swarm/unlock';
import { defineUnlockKey, printUnlockKey } from './swarm/unlock-key';

const DEFAULT_LISTEN = '0.0.0.0:2377';

/** A node address flag: "ip|interface[:port]", the missing parts taken from 0.0.0.0:2377 (docker's NodeAddrOption). */
export function parseNodeAddr(value: string, flag = '--listen-addr', fallback = DEFAULT_LISTEN): string {
  const v = value.replace(/^tcp:\/\//, '');
  const [defHost, defPort] = [fallback.slice(0, fallback.lastIndexOf(':')), fallback.slice(fallback.lastIndexOf(':') + 1)];
  const m = /^(\[[^\]]*\]|[^:/]*)(?::([^:/]*))?\/?$/.exec(v);
  if (!m) throw new FlagError(flag, value, `invalid bind address format: ${value}`);
  const host = m[1] || defHost;
  const port = m[2] === undefined || m[2] === '' ? defPort : m[2];
  if (!/^\d+$/.test(port) || Number(port) > 65535) throw new FlagError(flag, value, `invalid bind address format: ${value}`);
  return `${host}:${port}`;
}

/** The swarm-wide flags init and update share. */
export interface SwarmFlags {
  taskHistoryLimit?: string;
  dispatcherHeartbeat?: string;
  maxSnapshots?: string;
  snapshotInterval?: string;
  certExpiry?: string;
  autolock?: boolean;
  externalCa?: string;
}

function addSwarmFlags(cmd: ShoalCommand, autolockHelp: string): ShoalCommand {
  return cmd
    .option('--autolock', autolockHelp)
    .addOption(new Option('--no-autolock').hideHelp()) // docker's --autolock=false
    .option('--cert-expiry <duration>', 'Validity period for node certificates (ns|us|ms|s|m|h) (default 2160h0m0s)')
    .option('--dispatcher-heartbeat <duration>', 'Dispatcher heartbeat period (ns|us|ms|s|m|h) (default 5s)')
    .option('--external-ca <external-ca>', 'Specifications of one or more certificate signing endpoints (not supported by shoal)')
    .option('--max-snapshots <uint>', 'Number of additional Raft snapshots to retain')
    .option('--snapshot-interval <uint>', 'Number of log entries between Raft snapshots (default 10000)')
    .option('--task-history-limit <int>', 'Task history retention limit (default 5)') as ShoalCommand;
}

/** Apply the given swarm flags to a spec (docker's mergeSwarmSpec); unset flags leave it alone. */
export function mergeSwarmSpec<S extends WithNullLabels<SwarmSpec>>(spec: S, f: SwarmFlags): S {
  if (f.externalCa !== undefined) throw new ExitError(1, EXTERNAL_CA_REFUSAL);
  const out: S = structuredClone(spec);
  if (f.taskHistoryLimit !== undefined) out.Orchestration = { ...(out.Orchestration ?? {}), TaskHistoryRetentionLimit: parseInteger(f.taskHistoryLimit, '--task-history-limit') };
  if (f.dispatcherHeartbeat !== undefined) out.Dispatcher = { ...(out.Dispatcher ?? {}), HeartbeatPeriod: parseGoDuration(f.dispatcherHeartbeat, '--dispatcher-heartbeat') };
  if (f.maxSnapshots !== undefined) out.Raft = { ...(out.Raft ?? {}), KeepOldSnapshots: parseUint(f.maxSnapshots, '--max-snapshots') };
  if (f.snapshotInterval !== undefined) out.Raft = { ...(out.Raft ?? {}), SnapshotInterval: parseUint(f.snapshotInterval, '--snapshot-interval') };
  if (f.certExpiry !== undefined) out.CAConfig = { ...(out.CAConfig ?? {}), NodeCertExpiry: parseGoDuration(f.certExpiry, '--cert-expiry') };
  if (f.autolock !== undefined) out.EncryptionConfig = { ...(out.EncryptionConfig ?? {}), AutoLockManagers: f.autolock };
  return out;
}

/** The spec docker sends with swarm init: Go's zero Spec plus the given flags. */
export function initSpec(f: SwarmFlags): WithNullLabels<SwarmSpec> {
  return mergeSwarmSpec<WithNullLabels<SwarmSpec>>({ Labels: null, Orchestration: {}, Raft: { ElectionTick: 0, HeartbeatTick: 0 }, Dispatcher: {}, CAConfig: {}, TaskDefaults: {}, EncryptionConfig: { AutoLockManagers: false } }, f);
}

const availability = (v: string | undefined) => (v === undefined ? '' : oneOf(v.toLowerCase(), '--availability', ['active', 'pause', 'drain']));

/** swarm init's flags into the request body (docker sends every field). */
export function initRequest(o: Record<string, unknown>): SwarmInitRequest {
  const pools = (o.defaultAddrPool as string[] | undefined) ?? [];
  for (const p of pools) if (!/^[\d.]+\/\d+$|^[\da-fA-F:]+\/\d+$/.test(p)) throw new FlagError('--default-addr-pool', p, `invalid CIDR address: ${p}`);
  return {
    ListenAddr: parseNodeAddr((o.listenAddr as string | undefined) ?? DEFAULT_LISTEN),
    AdvertiseAddr: (o.advertiseAddr as string | undefined) ?? '',
    DataPathAddr: (o.dataPathAddr as string | undefined) ?? '',
    DataPathPort: o.dataPathPort === undefined ? 0 : parseUint(o.dataPathPort as string, '--data-path-port'),
    ForceNewCluster: !!o.forceNewCluster,
    Spec: initSpec(o as SwarmFlags),
    AutoLockManagers: !!o.autolock,
    Availability: availability(o.availability as string | undefined),
    DefaultAddrPool: pools,
    SubnetSize: o.defaultAddrPoolMaskLength === undefined ? 24 : parseUint(o.defaultAddrPoolMaskLength as string, '--default-addr-pool-mask-length'),
  };
}

/** "To add a worker to this swarm, run the following command: ..." (needs the node's manager address). */
async function printJoinCommand(cli: SwarmCli, nodeId: string, role: 'worker' | 'manager'): Promise<void> {
  const node = await cli.client.get<Node>(`/nodes/${encodeURIComponent(nodeId)}`);
  const sw = await cli.client.get<Swarm>('/swarm');
  if (!node.ManagerStatus) return;
  const token = role === 'worker' ? sw.JoinTokens?.Worker : sw.JoinTokens?.Manager;
  cli.out(`To add a ${role} to this swarm, run the following command:\n\n    shoal swarm join --token ${token ?? ''} ${node.ManagerStatus.Addr ?? ''}\n\n`);
}

function defineInit(cmd: ShoalCommand, cli: Cli): void {
  addSwarmFlags(
    cmd
      .description('Initialize a swarm')
      .option('--advertise-addr <string>', 'Advertised address (format: "<ip|interface>[:port]")')
      .option('--availability <string>', 'Availability of the node ("active", "pause", "drain") (default "active")')
      .option('--data-path-addr <string>', 'Address or interface to use for data path traffic (format: "<ip|interface>")')
      .option('--data-path-port <uint32>', 'Port number to use for data path traffic (1024 - 49151). If no value is set or is set to 0, the default port (4789) is used.')
      .option('--default-addr-pool <ipNetSlice>', 'default address pool in CIDR format (default [])', csvList)
      .option('--default-addr-pool-mask-length <uint32>', 'default address pool subnet mask length (default 24)')
      .option('--force-new-cluster', 'Force create a new cluster from current state')
      .option('--listen-addr <node-addr>', 'Listen address (format: "<ip|interface>[:port]") (default 0.0.0.0:2377)'),
    'Enable manager autolocking (requiring an unlock key to start a stopped manager)',
  ).action(async () => runInit(cli, initRequest(cmd.opts())));
}

/** POST /swarm/init, then docker's instructions (and the unlock key with --autolock). */
export async function runInit(cli: SwarmCli, body: SwarmInitRequest): Promise<void> {
  let id: string;
  try {
    id = await cli.client.post<string>('/swarm/init', { body });
  } catch (e) {
    if (e instanceof ApiError && /could not choose an IP address to advertise|could not find the system's IP address/.test(e.message)) throw new ApiError(e.status, `${e.message} - specify one with --advertise-addr`);
    throw e;
  }
  id = String(id).trim().replace(/^"|"$/g, '');
  cli.out(`Swarm initialized: current node (${id}) is now a manager.\n\n`);
  await printJoinCommand(cli, id, 'worker');
  cli.line("To add a manager to this swarm, run 'shoal swarm join-token manager' and follow the instructions.");
  if (body.AutoLockManagers) await printUnlockKey(cli);
}

function defineJoin(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Join a swarm as a node and/or manager')
    .argument('<host:port>')
    .option('--advertise-addr <string>', 'Advertised address (format: "<ip|interface>[:port]")')
    .option('--availability <string>', 'Availability of the node ("active", "pause", "drain") (default "active")')
    .option('--data-path-addr <string>', 'Address or interface to use for data path traffic (format: "<ip|interface>")')
    .option('--listen-addr <node-addr>', 'Listen address (format: "<ip|interface>[:port]") (default 0.0.0.0:2377)')
    .option('--token <string>', 'Token for entry into the swarm')
    .action(async (remote: string) => {
      const o = cmd.opts();
      const body = {
        ListenAddr: parseNodeAddr(o.listenAddr ?? DEFAULT_LISTEN),
        AdvertiseAddr: o.advertiseAddr ?? '',
        DataPathAddr: o.dataPathAddr ?? '',
        RemoteAddrs: [remote],
        JoinToken: o.token ?? '',
        Availability: availability(o.availability),
      };
      await cli.client.post('/swarm/join', { body });
      const info = await cli.client.get<{ Swarm?: SwarmInfo }>('/info');
      cli.line(info.Swarm?.ControlAvailable ? 'This node joined a swarm as a manager.' : 'This node joined a swarm as a worker.');
    });
}

function defineJoinToken(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Manage join tokens')
    .argument('<worker|manager>')
    .option('-q, --quiet', 'Only display token')
    .option('--rotate', 'Rotate join token')
    .action(async (role: string) => {
      const o = cmd.opts();
      if (role !== 'worker' && role !== 'manager') throw new ExitError(1, `unknown role ${role}`);
      if (o.rotate) {
        const sw = await cli.client.get<Swarm>('/swarm');
        await cli.client.post('/swarm/update', { query: updateQuery(sw.Version?.Index, { worker: role === 'worker', manager: role === 'manager' }), body: sw.Spec });
        if (!o.quiet) cli.out(`Successfully rotated ${role} join token.\n\n`);
      }
      const sw = await cli.client.get<Swarm>('/swarm');
      if (o.quiet) {
        cli.line(role === 'worker' ? sw.JoinTokens?.Worker : sw.JoinTokens?.Manager);
        return;
      }
      const info = await cli.client.get<{ Swarm?: SwarmInfo }>('/info');
      await printJoinCommand(cli, info.Swarm?.NodeID ?? '', role);
    });
}

function defineLeave(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Leave the swarm')
    .option('-f, --force', 'Force this node to leave the swarm, ignoring warnings')
    .action(async () => {
      await cli.client.post('/swarm/leave', { query: { force: cmd.opts().force ? 1 : undefined } });
      cli.line('Node left the swarm.');
    });
}

function defineUpdate(cmd: ShoalCommand, cli: Cli): void {
  addSwarmFlags(cmd.description('Update the swarm'), 'Change manager autolocking setting (true|false)').action(async () => {
    const o = cmd.opts() as SwarmFlags;
    // docker shows the usage when no flag is given
    if (Object.values(o).every((v) => v === undefined)) cmd.help();
    mergeSwarmSpec({}, o); // bad values fail before anything is sent
    await runUpdate(cli, o);
  });
}

/** Merge the flags into the current spec; the unlock key is shown when autolock was just turned on. */
export async function runUpdate(cli: SwarmCli, o: SwarmFlags): Promise<void> {
  const sw = await cli.client.get<Swarm>('/swarm');
  const wasLocked = !!sw.Spec?.EncryptionConfig?.AutoLockManagers;
  const spec = mergeSwarmSpec(sw.Spec, o);
  await cli.client.post('/swarm/update', { query: updateQuery(sw.Version?.Index), body: spec });
  cli.line('Swarm updated.');
  if (spec.EncryptionConfig?.AutoLockManagers && !wasLocked) await printUnlockKey(cli);
}

export const swarmGroup: CommandGroup = {
  register(program, cli) {
    registerGroup(program, cli, 'swarm', 'Manage Swarm', [
      { name: 'ca', define: defineCa },
      { name: 'init', define: defineInit },
      { name: 'join', define: defineJoin },
      { name: 'join-token', define: defineJoinToken },
      { name: 'leave', define: defineLeave },
      { name: 'unlock', define: defineUnlock },
      { name: 'unlock-key', define: defineUnlockKey },
      { name: 'update', define: defineUpdate },
    ]);
  },
};
