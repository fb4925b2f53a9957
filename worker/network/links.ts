// Links and network namespaces: a container's namespace, veth pairs, addresses, routes and
// bridge ports by system call and rtnetlink (shared/sys), no process per container; bridges and
// the reaper's deletions still go through `ip`.
import { promises as fs } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { run } from '../../shared/exec';
import { internal } from '../../shared/errors';
import { homeNetnsFd, inNetns, inNewNetns, umount, MNT_DETACH, SyscallError } from '../../shared/sys/syscalls';
import { attachToBridges } from '../../shared/sys/netdev';
import { RouteSocket, withRouteSocket } from '../../shared/sys/netlink';

/** One container interface: a veth pair, the host end on a bridge. */
export interface VethSpec {
  /** Name inside the container (eth0, eth1, ...). */
  ifname: string;
  /** Name of the host end: deterministic, so a crashed setup can be found and replaced. */
  hostVeth: string;
  mac: string;
  ip: string;
  prefix: number;
  /** Set for the interface that carries the default route. */
  gateway?: string;
  bridge: string;
  /** Below the default 1500 on overlay networks (the VXLAN header). */
  mtu?: number;
  /**
   * Let the bridge send a frame back out the port it came in on. On overlay networks a task can
   * reach itself through its service's VIP: the bridge's netfilter turns that DNAT into a bridged
   * frame to the task's own port.
   */
  hairpin?: boolean;
}

export interface BridgeSpec {
  name: string;
  mac: string;
  gateway: string;
  prefix: number;
}

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * A fresh host-side veth name (15 characters). Random rather than derived from the container: the
 * kernel destroys the previous pair of a restarted container in the background, and the new one
 * must not wait for that. The record keeps the name (written before plumbing), so a crash is found.
 */
export function newHostVethName(): string {
  return `shv${randomBytes(6).toString('hex')}`;
}

/** A fixed, locally administered MAC for a bridge, so removing a port never changes it (see KERNEL-NOTES). */
export function bridgeMac(name: string, daemonKey: string): string {
  const h = hex(`${daemonKey}|${name}`);
  return ['02', h.slice(0, 2), h.slice(2, 4), h.slice(4, 6), h.slice(6, 8), h.slice(8, 10)].join(':');
}

/** Docker's scheme: 02:42 followed by the four bytes of the IPv4 address. */
export function macForIp(ip: string): string {
  return ['02', '42', ...ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');
}

/**
 * Plumb `links` into the namespace `ns` acts on: each pair is made from there with its host end
 * put straight into the daemon's namespace, then addressed, up, and routed.
 */
function containerSide(ns: RouteSocket, links: VethSpec[], withLo: boolean): void {
  if (withLo) ns.setUp('lo');
  for (const l of links) {
    const index = ns.addVeth({ name: l.ifname, mac: l.mac, mtu: l.mtu, peer: l.hostVeth, peerNetnsFd: homeNetnsFd() });
    ns.addAddress(index, l.ip, l.prefix);
    if (l.gateway) ns.addDefaultRoute(index, l.gateway);
  }
}

/** The host ends, already in the daemon's namespace: onto their bridges, and up (hairpin where asked). */
function attachHostEnds(links: VethSpec[]): void {
  attachToBridges(links.map((l) => ({ dev: l.hostVeth, bridge: l.bridge })));
  const hairpin = links.filter((l) => l.hairpin);
  if (hairpin.length) withRouteSocket((home) => hairpin.forEach((l) => home.setHairpin(l.hostVeth)));
}

/**
 * Create a network namespace bound to `nsPath` and plumb `links` into it: the daemon's main
 * thread steps into a new namespace just long enough to bind it and open a route socket there,
 * then configures it through that socket (system calls, no process); ioctls put the host ends
 * on their bridges. A failure part-way leaves a bound namespace for the caller to remove, and
 * the pairs go with it. Nothing waits, so there is nothing for `_signal` to cancel.
 */
export async function createNetns(nsPath: string, links: VethSpec[], _signal?: AbortSignal): Promise<void> {
  await fs.mkdir(dirname(nsPath), { recursive: true, mode: 0o711 });
  await fs.writeFile(nsPath, '', { mode: 0o444 });
  withRouteSocket((ns) => containerSide(ns, links, true), () => inNewNetns(nsPath, RouteSocket.open));
  attachHostEnds(links);
}

/** Hot-add interfaces to an existing namespace (network connect). */
export async function addLinks(nsPath: string, links: VethSpec[], _signal?: AbortSignal): Promise<void> {
  if (!links.length) return;
  withRouteSocket((ns) => containerSide(ns, links, false), () => inNetns(nsPath, RouteSocket.open));
  attachHostEnds(links);
}

/** Delete host veth ends (their peers go with them); missing ones are fine. Slow: ~30 ms per pair (RCU). */
export async function deleteLinks(hostVeths: string[]): Promise<void> {
  if (!hostVeths.length) return;
  await run('ip', ['-force', '-batch', '-'], { input: hostVeths.map((v) => `link del ${v}`).join('\n') + '\n', okCodes: [0, 1] });
}

/** Unmount and remove a namespace file; the namespace dies with its last user. Idempotent. */
export async function removeNetns(nsPath: string): Promise<void> {
  try {
    await fs.access(nsPath);
  } catch {
    return;
  }
  try {
    umount(nsPath, MNT_DETACH);
  } catch (e) {
    // EINVAL: not a mount point (a create cut short before the bind).
    if (!(e instanceof SyscallError && e.errno === 'EINVAL')) throw e;
  }
  await fs.rm(nsPath, { force: true });
}

interface IpAddrJson {
  ifname: string;
  address?: string;
  flags?: string[];
  linkinfo?: { info_kind?: string };
  addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
}

export async function listLinks(): Promise<IpAddrJson[]> {
  const { stdout } = await run('ip', ['-j', '-d', 'addr', 'show']);
  return JSON.parse(stdout) as IpAddrJson[];
}

/** Make each bridge exist with its fixed MAC, its gateway address, and up; one batch for all. */
export async function ensureBridges(bridges: BridgeSpec[]): Promise<void> {
  if (!bridges.length) return;
  const links = new Map((await listLinks()).map((l) => [l.ifname, l]));
  const L: string[] = [];
  for (const b of bridges) {
    const cur = links.get(b.name);
    if (cur && cur.linkinfo?.info_kind !== 'bridge') throw internal(`cannot use ${b.name} as a bridge: a ${cur.linkinfo?.info_kind ?? 'non-bridge'} device of that name exists`);
    if (!cur) L.push(`link add ${b.name} address ${b.mac} type bridge`);
    if (!cur?.addr_info?.some((a) => a.family === 'inet' && a.local === b.gateway && a.prefixlen === b.prefix)) L.push(`addr replace ${b.gateway}/${b.prefix} dev ${b.name}`);
    if (!cur?.flags?.includes('UP')) L.push(`link set ${b.name} up`);
  }
  if (L.length) await run('ip', ['-batch', '-'], { input: L.join('\n') + '\n' });
  for (const b of bridges) await setSysctl(`net/ipv4/conf/${b.name}/route_localnet`, '1');
}

export async function deleteBridge(name: string): Promise<void> {
  await run('ip', ['link', 'del', name], { okCodes: [0, 1] });
}

export async function setSysctl(key: string, value: string): Promise<void> {
  const path = `/proc/sys/${key}`;
  const cur = await fs.readFile(path, 'utf8').catch(() => undefined);
  if (cur?.trim() !== value) await fs.writeFile(path, value);
}

export { hostRoutes } from '../../shared/net/routes';
