// The VXLAN side of an overlay network on one node: a vxlan device on the network's bridge,
// with no learning and no flooding, whose forwarding (FDB) and neighbour entries come from the
// cluster's view of where each task address lives. The device answers ARP itself from its
// neighbour table (proxy), so no broadcast leaves the node and the gateway address, present on
// every node's bridge, never collides across nodes.
import { run } from '../../shared/exec';
import { macForIp } from './links';
import type { NetworkPeer } from '../../shared/swarm';

/** The IANA VXLAN port, as Docker's overlay uses. */
export const VXLAN_PORT = 4789;
/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers. */
export const VXLAN_OVERHEAD = 50;

/** What the VXLAN side needs of a peer: its address, and the node (tunnel endpoint) it is on. */
export type OverlayPeer = Pick<NetworkPeer, 'IP' | 'Node'>;

/** Device names for a VNI: at most 15 characters, unique on the node as the VNI is in the cluster. */
export function overlayDevices(vni: number): { bridge: string; vxlan: string } {
  return { bridge: `ov${vni}`, vxlan: `vx${vni}` };
}

/** `ip -batch` lines that create the vxlan device on its bridge, with the overlay MTU on both. */
export function vxlanCommands(o: { vni: number; local: string; mtu: number; exists: boolean }): string[] {
  const { bridge, vxlan } = overlayDevices(o.vni);
  const L = o.exists ? [] : [`link add ${vxlan} type vxlan id ${o.vni} dstport ${VXLAN_PORT} local ${o.local} nolearning proxy`];
  L.push(`link set ${vxlan} master ${bridge} mtu ${o.mtu}`, `link set ${bridge} mtu ${o.mtu}`, `link set ${vxlan} up`);
  return L;
}

/** What a vxlan device holds now: MAC -> remote, and IP -> MAC. */
export interface Programmed {
  fdb: Map<string, string>;
  neigh: Map<string, string>;
}

/**
 * The changes that make the device forward exactly to `peers` not on this node: `bridge` and
 * `ip` batch lines. MACs derive from addresses (Docker's 02:42 scheme), as every node computes them.
 */
export function peerCommands(vxlan: string, peers: readonly OverlayPeer[], localNode: string, have: Programmed, local: ReadonlyMap<string, string> = new Map()): { bridge: string[]; ip: string[] } {
  const wantFdb = new Map<string, string>();
  // Addresses answered with a MAC of this node (the VIPs: the bridge takes them to the host's rules).
  const wantNeigh = new Map<string, string>(local);
  for (const p of peers) {
    if (p.Node === localNode) continue;
    const mac = macForIp(p.IP);
    wantFdb.set(mac, p.Node);
    wantNeigh.set(p.IP, mac);
  }
  const bridge: string[] = [];
  const ip: string[] = [];
  for (const [mac, dst] of wantFdb) if (have.fdb.get(mac) !== dst) bridge.push(`fdb replace ${mac} dev ${vxlan} dst ${dst} self permanent`);
  for (const [mac] of have.fdb) if (!wantFdb.has(mac)) bridge.push(`fdb del ${mac} dev ${vxlan} self`);
  for (const [addr, mac] of wantNeigh) if (have.neigh.get(addr) !== mac) ip.push(`neigh replace ${addr} lladdr ${mac} dev ${vxlan} nud permanent`);
  for (const [addr] of have.neigh) if (!wantNeigh.has(addr)) ip.push(`neigh del ${addr} dev ${vxlan}`);
  return { bridge, ip };
}

/** Read a vxlan device's remote FDB entries and permanent neighbours. */
export async function readProgrammed(vxlan: string): Promise<Programmed> {
  const fdbJson = JSON.parse((await run('bridge', ['-j', 'fdb', 'show', 'dev', vxlan])).stdout || '[]') as Array<{ mac: string; dst?: string }>;
  const neighJson = JSON.parse((await run('ip', ['-j', 'neigh', 'show', 'dev', vxlan])).stdout || '[]') as Array<{ dst: string; lladdr?: string; state?: string[] }>;
  const fdb = new Map<string, string>();
  for (const e of fdbJson) if (e.dst && e.mac !== '00:00:00:00:00:00') fdb.set(e.mac, e.dst);
  const neigh = new Map<string, string>();
  for (const n of neighJson) if (n.lladdr && n.state?.includes('PERMANENT')) neigh.set(n.dst, n.lladdr);
  return { fdb, neigh };
}

/**
 * Program the device for `peers`; `local` maps addresses to answer with a MAC of this node (a
 * service's VIP -> the bridge's MAC). Returns how many entries changed.
 */
export async function programPeers(vxlan: string, peers: readonly OverlayPeer[], localNode: string, local: ReadonlyMap<string, string> = new Map()): Promise<number> {
  const cmds = peerCommands(vxlan, peers, localNode, await readProgrammed(vxlan), local);
  if (cmds.bridge.length) await run('bridge', ['-batch', '-'], { input: cmds.bridge.join('\n') + '\n' });
  if (cmds.ip.length) await run('ip', ['-batch', '-'], { input: cmds.ip.join('\n') + '\n' });
  return cmds.bridge.length + cmds.ip.length;
}

export async function createVxlan(o: { vni: number; local: string; mtu: number; exists: boolean }): Promise<void> {
  await run('ip', ['-batch', '-'], { input: vxlanCommands(o).join('\n') + '\n' });
}

/**
 * Move a node's own routing-mesh address on the ingress bridge from `old` to `next`: the address,
 * and its MAC (derived from it, as other nodes compute it) as one of the bridge's own.
 */
export async function setMeshAddress(bridge: string, prefix: number, old: string | undefined, next: string | undefined): Promise<void> {
  const L: string[] = [];
  const B: string[] = [];
  if (old) {
    L.push(`addr del ${old}/${prefix} dev ${bridge}`);
    B.push(`fdb del ${macForIp(old)} dev ${bridge} self local`);
  }
  if (next) {
    L.push(`addr replace ${next}/${prefix} dev ${bridge}`);
    B.push(`fdb replace ${macForIp(next)} dev ${bridge} self local`);
  }
  if (L.length) await run('ip', ['-force', '-batch', '-'], { input: L.join('\n') + '\n' });
  if (B.length) await run('bridge', ['-force', '-batch', '-'], { input: B.join('\n') + '\n' });
}
