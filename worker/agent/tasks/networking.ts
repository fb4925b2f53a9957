// Task networking on a swarm node: a task attached to swarm networks (its NetworksAttachments,
// addresses chosen by the manager's allocator) joins each network's local bridge with that
// address, after the node has joined the network (bridge + vxlan). A task with none stays on
// the node's default bridge.
import { invalid } from '../../../shared/errors';
import { VXLAN_OPTION } from '../../../shared/swarm';
import type { SwarmNetworkDef } from '../../network/manager';
import { TASK_ENDPOINT_OPT } from '../../network/attach';
import { DEFAULT_NETWORKING } from './config';
import type { AgentTask, NetworkAttacher } from './types';

/** The part of the network manager this needs. */
export interface SwarmNetworkHost {
  ensureSwarmNetwork(def: SwarmNetworkDef): Promise<void>;
}

interface NetworkJson {
  ID?: string;
  Spec?: { Name?: string; Internal?: boolean; Attachable?: boolean; Ingress?: boolean; Labels?: Record<string, string> };
  DriverState?: { Options?: Record<string, string> };
  IPAMOptions?: { Configs?: Array<{ Subnet?: string; Gateway?: string }> };
}

/** A swarm network (a task attachment's, or as the dispatcher sends it) as this node joins it; `local` is the node's address. */
export function swarmNetworkDef(network: unknown, local: string): SwarmNetworkDef {
  const n = (network ?? {}) as NetworkJson;
  const vni = Number(n.DriverState?.Options?.[VXLAN_OPTION]);
  const cfg = n.IPAMOptions?.Configs?.[0];
  if (!n.ID || !n.Spec?.Name || !Number.isInteger(vni) || vni <= 0 || !cfg?.Subnet || !cfg.Gateway) throw invalid(`network attachment ${n.ID ?? '?'} lacks its name, VXLAN ID, subnet or gateway`);
  return { id: n.ID, name: n.Spec.Name, subnet: cfg.Subnet, gateway: cfg.Gateway, vni, internal: n.Spec.Internal, attachable: n.Spec.Attachable, ...(n.Spec.Ingress ? { ingress: true } : {}), labels: n.Spec.Labels, local };
}

/** The names a task answers to on a network: its service's, then the aliases its spec gives there. */
export function taskAliases(task: AgentTask, networkId: string): string[] {
  const names = [task.ServiceAnnotations?.Name, ...(task.Spec.Networks?.find((n) => n.Target === networkId)?.Aliases ?? [])];
  return [...new Set(names.filter((x): x is string => !!x))];
}

export function swarmNetworking(host: SwarmNetworkHost, local: string): NetworkAttacher {
  return async (task) => {
    const atts = (task.NetworksAttachments ?? []).filter((a) => a.Network?.ID && a.Addresses?.length);
    if (!atts.length) return DEFAULT_NETWORKING;
    for (const a of atts) await host.ensureSwarmNetwork(swarmNetworkDef(a.Network, local));
    // The addresses came with the task: marked so, the network manager does not attach them again.
    const endpoints = Object.fromEntries(atts.map((a) => [a.Network!.ID!, { IPAMConfig: { IPv4Address: a.Addresses![0].split('/')[0] }, Aliases: taskAliases(task, a.Network!.ID!), DriverOpts: { [TASK_ENDPOINT_OPT]: task.ID } }]));
    return { NetworkMode: atts[0].Network!.ID!, EndpointsConfig: endpoints };
  };
}
