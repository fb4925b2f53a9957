// Names a node answers on a swarm network, from the cluster's view of it (the Peers the
// dispatcher sends): `<service>` and its aliases give the service's VIP (VIP mode) or its
// running tasks' addresses (dnsrr mode), and `tasks.<service>` always the running tasks'
// addresses; a plain container attached to the network answers to its name and aliases while it
// runs. Lower-cased, as lookups are. Pure.
import type { NetworkPeer } from '../../../shared/swarm';

export function clusterNames(peers: readonly NetworkPeer[]): { names: Map<string, string[]>; reverse: Map<string, string> } {
  const names = new Map<string, string[]>();
  const reverse = new Map<string, string>();
  const add = (name: string, ip: string) => {
    const key = name.toLowerCase();
    const list = names.get(key) ?? [];
    if (!list.includes(ip)) list.push(ip);
    names.set(key, list);
  };
  for (const p of peers) {
    if (!p.Service) {
      // A container's network attachment (a node's own ingress address has no names).
      if (!p.Running || !p.Aliases?.length) continue;
      for (const a of p.Aliases) add(a, p.IP);
      reverse.set(p.IP, p.Aliases[0]);
      continue;
    }
    const aliases = [p.Service, ...(p.Aliases ?? [])];
    // The VIP answers whether or not a task runs yet, as Docker's does.
    if (p.VIP) for (const a of aliases) add(a, p.VIP);
    if (!p.Running) continue;
    add(`tasks.${p.Service}`, p.IP);
    if (!p.VIP) for (const a of aliases) add(a, p.IP);
    reverse.set(p.IP, p.Task ? `${p.Service}.${p.Task}` : p.Service);
  }
  return { names, reverse };
}
