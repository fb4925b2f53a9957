import type { Cli } from '../context';
import { list, csvList, registerGroup, type CommandGroup, type ShoalCommand } from '../program';
import { NETWORK_HEADERS, NETWORK_TABLE, networkRow, type NetworkSummary } from '../format/objects';
import { filtersJson } from '../opts/filters';
import { consolidateIpam } from '../opts/ipam';
import { parseKeyValues } from '../opts/values';
import { validateIp } from '../opts/policy';
import { forEachTarget, inspectObjects, printRows, prune, seg } from './common';

const netPath = (n: string) => `/networks/${seg(n)}`;

function defineCreate(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Create a network')
    .argument('<network>')
    .option('--attachable', 'Enable manual container attachment')
    .option('--aux-address <name=ip>', 'Auxiliary IPv4 or IPv6 addresses used by Network driver', list)
    .option('--config-from <network>', 'The network from which to copy the configuration')
    .option('--config-only', 'Create a configuration only network')
    .option('-d, --driver <driver>', 'Driver to manage the Network (default "bridge")')
    .option('--gateway <ip>', 'IPv4 or IPv6 Gateway for the master subnet', csvList)
    .option('--ingress', 'Create swarm routing-mesh network')
    .option('--internal', 'Restrict external access to the network')
    .option('--ip-range <cidr>', 'Allocate container ip from a sub-range', csvList)
    .option('--ipam-driver <driver>', 'IP Address Management Driver (default "default")')
    .option('--ipam-opt <key=value>', 'Set IPAM driver specific options', list)
    .option('--ipv4', 'Enable or disable IPv4 address assignment (default true)')
    .option('--no-ipv4', 'Disable IPv4 address assignment')
    .option('--ipv6', 'Enable or disable IPv6 address assignment')
    .option('--label <key=value>', 'Set metadata on a network', list)
    .option('-o, --opt <key=value>', 'Set driver specific options', list)
    .option('--scope <scope>', "Control the network's scope")
    .option('--subnet <cidr>', 'Subnet in CIDR format that represents a network segment', csvList)
    .action(async (name: string) => {
      const o = cmd.opts();
      const pools = consolidateIpam(o.subnet ?? [], o.ipRange ?? [], o.gateway ?? [], parseKeyValues(o.auxAddress ?? [], '--aux-address', { bareKey: 'error' }));
      const body = {
        Name: name,
        Driver: o.driver ?? 'bridge',
        Scope: o.scope ?? '',
        EnableIPv4: o.ipv4 === false ? false : undefined,
        EnableIPv6: o.ipv6 ? true : undefined,
        IPAM: { Driver: o.ipamDriver ?? 'default', Options: parseKeyValues(o.ipamOpt ?? [], '--ipam-opt'), Config: pools },
        Internal: !!o.internal,
        Attachable: !!o.attachable,
        Ingress: !!o.ingress,
        ConfigOnly: !!o.configOnly,
        ConfigFrom: o.configFrom ? { Network: o.configFrom } : undefined,
        Options: parseKeyValues(o.opt ?? [], '-o, --opt'),
        Labels: parseKeyValues(o.label ?? [], '--label'),
      };
      const r = await cli.client.post<{ Id: string; Warning?: string }>('/networks/create', { body });
      if (r.Warning) cli.err(`WARNING: ${r.Warning}\n`);
      cli.line(r.Id);
    });
}

function defineLs(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('List networks')
    .option('-f, --filter <filter>', 'Provide filter values (e.g. "driver=bridge")', list)
    .option('--format <format>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'")
    .option('--no-trunc', 'Do not truncate the output')
    .option('-q, --quiet', 'Only display network IDs')
    .action(async () => {
      const o = cmd.opts();
      const nets = await cli.client.get<NetworkSummary[]>('/networks', { query: { filters: filtersJson(o.filter) } });
      nets.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
      const rows = nets.map((n) => networkRow(n, { trunc: o.trunc !== false }));
      printRows(cli, rows, NETWORK_HEADERS, { format: o.format, quiet: o.quiet, quietTemplate: '{{.ID}}', defaultTable: NETWORK_TABLE });
    });
}

function defineInspect(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Display detailed information on one or more networks')
    .argument('<network...>')
    .option('-f, --format <format>', "Format output using a custom template: 'json' or 'TEMPLATE'")
    .option('-v, --verbose', 'Verbose output for diagnostics')
    .action(async (names: string[]) => {
      const o = cmd.opts();
      await inspectObjects(cli, names, o.format, (n) => cli.client.get(netPath(n), { query: { verbose: o.verbose ? 1 : undefined } }));
    });
}

function defineRm(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Remove one or more networks')
    .argument('<network...>')
    .option('-f, --force', 'Do not error if the network does not exist')
    .action(async (names: string[]) => {
      const force = !!cmd.opts().force;
      await forEachTarget(cli, names, async (n) => {
        try {
          await cli.client.delete(netPath(n));
        } catch (e) {
          if (force && (e as { status?: number }).status === 404) return null;
          throw e;
        }
      });
    });
}

function definePrune(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Remove all unused networks')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', list)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async () => {
      const o = cmd.opts();
      await prune(cli, {
        force: o.force,
        warning: 'WARNING! This will remove all custom networks not used by at least one container.',
        run: async () => {
          const r = await cli.client.post<{ NetworksDeleted?: string[] | null }>('/networks/prune', { query: { filters: filtersJson(o.filter, '--filter') } });
          return { title: 'Deleted Networks', deleted: r.NetworksDeleted ?? [] };
        },
      });
    });
}

function defineConnect(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Connect a container to a network')
    .argument('<network>')
    .argument('<container>')
    .option('--alias <alias>', 'Add network-scoped alias for the container', csvList)
    .option('--driver-opt <key=value>', 'driver options for the network', csvList)
    .option('--ip <ip>', 'IPv4 address (e.g., "172.30.100.104")')
    .option('--ip6 <ip>', 'IPv6 address (e.g., "2001:db8::33")')
    .option('--link-local-ip <ip>', 'Add a link-local address for the container', csvList)
    .action(async (network: string, container: string) => {
      const o = cmd.opts();
      if (o.ip) validateIp(o.ip, '--ip');
      if (o.ip6) validateIp(o.ip6, '--ip6');
      const ipam = o.ip || o.ip6 || o.linkLocalIp ? { IPv4Address: o.ip, IPv6Address: o.ip6, LinkLocalIPs: o.linkLocalIp } : undefined;
      await cli.client.post(`${netPath(network)}/connect`, {
        body: { Container: container, EndpointConfig: { IPAMConfig: ipam, Aliases: o.alias, DriverOpts: o.driverOpt ? parseKeyValues(o.driverOpt, '--driver-opt') : undefined } },
      });
    });
}

function defineDisconnect(cmd: ShoalCommand, cli: Cli): void {
  cmd
    .description('Disconnect a container from a network')
    .argument('<network>')
    .argument('<container>')
    .option('-f, --force', 'Force the container to disconnect from a network')
    .action(async (network: string, container: string) => {
      await cli.client.post(`${netPath(network)}/disconnect`, { body: { Container: container, Force: !!cmd.opts().force } });
    });
}

export const networkGroup: CommandGroup = {
  register(program, cli) {
    registerGroup(program, cli, 'network', 'Manage networks', [
      { name: 'connect', define: defineConnect },
      { name: 'create', define: defineCreate },
      { name: 'disconnect', define: defineDisconnect },
      { name: 'inspect', define: defineInspect },
      { name: 'ls', aliases: ['list'], define: defineLs },
      { name: 'prune', define: definePrune },
      { name: 'rm', aliases: ['remove'], define: defineRm },
    ]);
  },
};
