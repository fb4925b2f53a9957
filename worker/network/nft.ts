// shoal's nftables ruleset: rendered whole from state (pure), applied as one atomic `nft -f` batch.
import { createHash } from 'node:crypto';
import { run } from '../../shared/exec';
import type { Proto } from './ports';

export interface NftNetwork {
  bridge: string;
  subnet: string;
  /** No traffic in or out of the bridge except to its own members (Docker's --internal). */
  internal: boolean;
  /** Masquerade traffic leaving for other interfaces (com.docker.network.bridge.enable_ip_masquerade). */
  masquerade: boolean;
}

export interface NftPort {
  proto: Proto;
  /** undefined: every local address. */
  hostIp?: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

/** A service's virtual IP on an overlay network, and the running tasks behind it. */
export interface NftVip {
  vip: string;
  backends: string[];
  /** The backends on this node: a task sent to itself through the VIP needs another source. */
  local?: string[];
}

/** A port the routing mesh publishes on this node, and the running tasks behind it (their ingress addresses). */
export interface NftMeshPort {
  proto: Proto;
  published: number;
  target: number;
  backends: string[];
  /** The backends on this node: reached without SNAT, so they see the client's address. */
  local: string[];
}

export interface NftMesh {
  /** The ingress network's bridge on this node. */
  bridge: string;
  /** This node's own ingress address: the source of mesh traffic sent to another node's task. */
  source?: string;
  ports: NftMeshPort[];
}

export interface NftState {
  table: string;
  networks: NftNetwork[];
  ports: NftPort[];
  vips?: NftVip[];
  mesh?: NftMesh;
}

/** Marks a connection the routing mesh DNATed (conntrack mark), for the SNAT decision after routing. */
export const MESH_MARK = '0x6d657368';

/** A chain name per VIP: stable, so a re-render of the same state is the same text. */
const vipChain = (vip: string) => `vip_${vip.replace(/\./g, '_')}`;

/**
 * One table per daemon: the name comes from the daemon's bridge device, which is unique in a
 * network namespace, so several daemons in one netns never touch each other's rules.
 */
export function tableName(bridge: string): string {
  const clean = bridge.replace(/[^A-Za-z0-9_]/g, '_');
  return clean === bridge ? `shoal_${clean}` : `shoal_${clean}_${createHash('sha256').update(bridge).digest('hex').slice(0, 6)}`;
}

const q = (s: string) => JSON.stringify(s); // interface names quoted for nft

/**
 * The whole table. Chains:
 * - prerouting/output (nat): traffic to a local address jumps to `published`, which DNATs host ports
 *   to containers. The output hook covers the host itself, 127.0.0.1 included.
 * - postrouting (nat): masquerade egress from each non-internal subnet; masquerade DNATed traffic a
 *   container sends to a published port of its own bridge (hairpin) and loopback-sourced traffic
 *   DNATed onto a bridge (route_localnet is on for our bridges).
 * - forward (filter): keep internal networks in, and keep bridges apart from each other.
 */
export function renderTable(s: NftState): string {
  const L: string[] = [];
  const bridges = s.networks.map((n) => q(n.bridge));
  L.push(`table ip ${s.table} {`);
  L.push('\tset bridges {', '\t\ttype ifname', ...(bridges.length ? [`\t\telements = { ${bridges.join(', ')} }`] : []), '\t}');
  const vips = [...(s.vips ?? [])].sort((a, b) => a.vip.localeCompare(b.vip));
  const served = vips.filter((v) => v.backends.length);
  const idle = vips.filter((v) => !v.backends.length);
  L.push('\tset vips {', '\t\ttype ipv4_addr', ...(vips.length ? [`\t\telements = { ${vips.map((v) => v.vip).join(', ')} }`] : []), '\t}');
  const mesh = s.mesh && s.mesh.ports.length ? s.mesh : undefined;
  const meshPorts = [...(mesh?.ports ?? [])].sort((a, b) => a.published - b.published || a.proto.localeCompare(b.proto));
  const meshServed = meshPorts.filter((p) => p.backends.length);
  const meshJump = meshServed.length ? [`\t\tfib daddr type local meta l4proto . th dport vmap { ${meshServed.map((p) => `${p.proto} . ${p.published} : jump mesh_${p.proto}_${p.published}`).join(', ')} }`] : [];
  L.push('\tchain prerouting {', '\t\ttype nat hook prerouting priority dstnat; policy accept;', ...meshJump, '\t\tfib daddr type local jump published');
  // A VIP: one chain per service, a random running task per new flow (conntrack keeps the flow
  // there); the port is kept, as Docker's VIPs forward every port.
  if (served.length) L.push(`\t\tip daddr vmap { ${served.map((v) => `${v.vip} : jump ${vipChain(v.vip)}`).join(', ')} }`);
  L.push('\t}');
  for (const v of served) {
    const map = v.backends.map((b, i) => `${i} : ${b}`).join(', ');
    L.push(`\tchain ${vipChain(v.vip)} {`, `\t\tdnat to numgen random mod ${v.backends.length} map { ${map} }`, '\t}');
  }
  // A VIP with no running task refuses at once, rather than leaving clients to time out.
  L.push('\tchain vip_refuse {', '\t\ttype filter hook prerouting priority filter; policy accept;');
  if (idle.length) {
    L.push(`\t\tip daddr { ${idle.map((v) => v.vip).join(', ')} } meta l4proto tcp reject with tcp reset`);
    L.push(`\t\tip daddr { ${idle.map((v) => v.vip).join(', ')} } reject`);
  }
  // A mesh port whose service has no running task refuses too.
  for (const p of meshPorts.filter((x) => !x.backends.length)) {
    L.push(`\t\tfib daddr type local ${p.proto} dport ${p.published} ${p.proto === 'tcp' ? 'reject with tcp reset' : 'reject'}`);
  }
  L.push('\t}');
  // nft 1.0.6 rejects `priority dstnat` on the output hook: -100 is the same number.
  L.push('\tchain output {', '\t\ttype nat hook output priority -100; policy accept;', ...meshJump, '\t\tfib daddr type local jump published', '\t}');
  // The routing mesh: a published port on every local address goes to a random running task of
  // the service, on whichever node it runs (conntrack keeps the flow there).
  for (const p of meshServed) {
    const map = p.backends.map((b, i) => `${i} : ${b} . ${p.target}`).join(', ');
    L.push(`\tchain mesh_${p.proto}_${p.published} {`, `\t\tct mark set ${MESH_MARK} meta l4proto ${p.proto} dnat ip to numgen random mod ${p.backends.length} map { ${map} }`, '\t}');
  }
  L.push('\tchain published {');
  const ports = [...s.ports].sort((a, b) => a.hostPort - b.hostPort || a.proto.localeCompare(b.proto) || (a.hostIp ?? '').localeCompare(b.hostIp ?? ''));
  // Address-specific bindings first: they win over a wildcard on the same port.
  for (const p of [...ports.filter((x) => x.hostIp), ...ports.filter((x) => !x.hostIp)]) {
    const daddr = p.hostIp ? `ip daddr ${p.hostIp} ` : '';
    L.push(`\t\t${daddr}meta l4proto ${p.proto} th dport ${p.hostPort} dnat to ${p.containerIp}:${p.containerPort}`);
  }
  L.push('\t}');
  L.push('\tchain postrouting {', '\t\ttype nat hook postrouting priority srcnat; policy accept;');
  // VIP traffic keeps the client's address: replies come back through the client's node (the
  // bridge's netfilter hooks see them there and undo the DNAT). Masquerading to the gateway,
  // which every node's bridge has, would send them to the wrong node.
  // A task that reaches itself through the VIP would see its own address as the source (a martian,
  // dropped): masquerade that one case to the bridge address, which is this node's.
  const selves = [...new Set(vips.flatMap((v) => v.local ?? []))].sort();
  if (selves.length) L.push(`\t\tct original ip daddr @vips ip saddr . ip daddr { ${selves.map((b) => `${b} . ${b}`).join(', ')} } masquerade`);
  if (vips.length) L.push('\t\tct original ip daddr @vips accept');
  // Mesh traffic for a task on another node leaves with this node's ingress address, so the
  // reply comes back here to be un-NATed; a task on this node sees the client's own address.
  if (mesh?.source) {
    const locals = [...new Set(meshPorts.flatMap((p) => p.local))].sort();
    const exempt = locals.length ? ` ip daddr != { ${locals.join(', ')} }` : '';
    L.push(`\t\tct mark ${MESH_MARK} oifname ${q(mesh.bridge)}${exempt} snat to ${mesh.source}`);
  }
  for (const n of s.networks) {
    L.push(`\t\toifname ${q(n.bridge)} ip saddr ${n.subnet} ct status dnat masquerade`);
    L.push(`\t\toifname ${q(n.bridge)} ip saddr 127.0.0.0/8 masquerade`);
    if (!n.internal && n.masquerade) L.push(`\t\tip saddr ${n.subnet} oifname != ${q(n.bridge)} masquerade`);
  }
  L.push('\t}');
  L.push('\tchain forward {', '\t\ttype filter hook forward priority filter; policy accept;');
  for (const n of s.networks) {
    if (n.internal) {
      L.push(`\t\tiifname ${q(n.bridge)} oifname != ${q(n.bridge)} drop`);
      L.push(`\t\toifname ${q(n.bridge)} iifname != ${q(n.bridge)} drop`);
    }
  }
  // A published port reached from another bridge (container -> host port -> container): allowed, as
  // Docker's userland proxy allows it; any other bridge-to-bridge traffic is dropped.
  if (s.networks.some((n) => !n.internal)) L.push('\t\tct status dnat accept');
  for (const n of s.networks) {
    if (!n.internal) L.push(`\t\tiifname ${q(n.bridge)} oifname != ${q(n.bridge)} oifname @bridges drop`);
  }
  L.push('\t}');
  L.push('}');
  return L.join('\n') + '\n';
}

/** A batch that replaces the table atomically: create if missing, delete, create anew. */
export function renderReplace(s: NftState): string {
  return `table ip ${s.table}\ndelete table ip ${s.table}\n${renderTable(s)}`;
}

export async function applyRuleset(s: NftState, signal?: AbortSignal): Promise<void> {
  await run('nft', ['-f', '-'], { input: renderReplace(s), signal });
}

export async function deleteTable(table: string): Promise<void> {
  await run('nft', ['-f', '-'], { input: `table ip ${table}\ndelete table ip ${table}\n` });
}
