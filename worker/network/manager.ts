// Local networking for the engine: the predefined networks, user-defined bridges, container
// endpoints (netns + veth + IPAM), published ports and egress in nftables, and per-network DNS.
import { promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomInt } from 'node:crypto';
import type { DaemonConfig } from '../daemon/config';
import type { EventBus } from '../../shared/events';
import type { ContainerNetworking, EndpointSettings, NetworkSetupRequest, NetworkSetupResult } from '../engine/contracts';
import { ShoalError, invalid, notFound, conflict, errorMessage, isShoalError, unavailable } from '../../shared/errors';
import { newId, shortId } from '../../shared/ids';
import { logger } from '../../shared/log';
import { parseDurationMs } from '../../shared/units';
import { Mutex } from '../../shared/mutex';
import { StateStore, type Attachment, type ContainerRecord, type NetworkRecord } from './state';
import { allocate, choosePool, newAllocations, poolFromGatewayCidr, prefixLength, releaseOwner } from '../../shared/net/ipam';
import { assignHostPorts, portsReport, wantedBindings, type Binding, type Proto } from './ports';
import { applyRuleset, deleteTable, tableName, type NftMesh, type NftMeshPort, type NftState } from './nft';
import { addLinks, bridgeMac, createNetns, deleteBridge, deleteLinks, ensureBridges, hostRoutes, listLinks, newHostVethName, macForIp, removeNetns, setSysctl, type VethSpec } from './links';
import { createVxlan, overlayDevices, programPeers, setMeshAddress, VXLAN_OVERHEAD } from './overlay';
import type { NetworkPeer } from '../../shared/swarm';
import { VethReaper } from './reaper';
import { parseExtraHost, parseResolvConf, renderHosts, renderResolvConf, type ResolvConf } from './files';
import { DnsServer } from './dns/server';
import { handleQuery, servfail, type NameIndex } from './dns/message';
import { forward, type Upstream } from './dns/forward';
import { clusterNames } from './dns/cluster';
import { dnsNames, endpointSettings, networkContainers, networkJson, networkMatches, labelMatches } from './view';
import { isTaskEndpoint, type SwarmAttacher, type SwarmLease } from './attach';

/** A swarm network as a node takes part in it (from the task's attachment and the node's address). */
export interface SwarmNetworkDef {
  id: string;
  name: string;
  subnet: string;
  gateway: string;
  vni: number;
  internal?: boolean;
  attachable?: boolean;
  labels?: Record<string, string>;
  /** This node's address: the tunnel's source. */
  local: string;
  /** The routing mesh's network. */
  ingress?: boolean;
  /** MTU of the link the tunnel runs over (default 1500). */
  linkMtu?: number;
}

export interface NetworkManagerOptions {
  config: DaemonConfig;
  /** <dataRoot>/network */
  root: string;
  events: EventBus;
  /** The host's resolver config (default /etc/resolv.conf). */
  resolvConfPath?: string;
  /** The host's hosts file, for --network host (default /etc/hosts). */
  hostsPath?: string;
  /** Upstream resolvers for names the embedded DNS does not own (default: the nameservers of resolvConfPath, port 53). */
  dnsUpstreams?: Upstream[];
  /** Port of the embedded DNS servers (default 53; tests may pick another). */
  dnsPort?: number;
}

export type { NetworkCreateRequest } from '../../shared/net/request';
import type { NetworkCreateRequest } from '../../shared/net/request';

const PREDEFINED = ['bridge', 'host', 'none'];
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const OPT_BRIDGE_NAME = 'com.docker.network.bridge.name';
const OPT_MASQUERADE = 'com.docker.network.bridge.enable_ip_masquerade';

const forbidden = (msg: string) => new ShoalError('PERMISSION_DENIED', msg);
/** dockerd treats "default" (what the docker CLI sends, as mode and endpoint key) as the default bridge. */
const canonicalRef = (name: string) => (name === 'default' || !name ? 'bridge' : name);

export class NetworkManager implements ContainerNetworking {
  private readonly log = logger('network');
  private readonly lock = new Mutex();
  private readonly nftQueue = new Mutex();
  /** Serializes FDB/neighbour programming of the vxlan devices. */
  private readonly overlayQueue = new Mutex();
  /** The latest peers the cluster sent for each swarm network, also before it exists here. */
  private readonly swarmPeers = new Map<string, { peers: readonly NetworkPeer[]; local: string }>();
  private readonly networks = new Map<string, NetworkRecord>();
  private readonly containers = new Map<string, ContainerRecord>();
  private readonly dns = new Map<string, DnsServer>();
  private readonly store: StateStore;
  private readonly table: string;
  private readonly daemonKey: string;
  private ephemeral: [number, number] = [32768, 60999];
  private version = 0;
  private indexCache = new Map<string, { version: number; index: NameIndex }>();
  private upstreamCache?: { at: number; conf: ResolvConf };
  private closed = false;
  /** While the node is in a swarm: how plain containers get onto its attachable networks. */
  private attacher?: SwarmAttacher;
  private readonly reaper = new VethReaper((e) => this.log.warn({ err: errorMessage(e) }, 'veth reaping failed'));

  private constructor(private readonly opts: NetworkManagerOptions) {
    this.store = new StateStore(opts.root);
    this.table = tableName(opts.config.bridge.name);
    this.daemonKey = opts.config.execRoot;
  }

  static async open(opts: NetworkManagerOptions): Promise<NetworkManager> {
    const m = new NetworkManager(opts);
    await m.init();
    return m;
  }

  private get config(): DaemonConfig {
    return this.opts.config;
  }

  private netnsPath(containerId: string): string {
    return join(this.config.execRoot, 'netns', containerId);
  }

  // ---- startup and reconciliation -------------------------------------------------------------

  private async init(): Promise<void> {
    await this.store.init();
    for (const n of await this.store.loadNetworks()) this.networks.set(n.id, n);
    for (const c of await this.store.loadContainers()) this.containers.set(c.id, c);
    await this.ensurePredefined();
    const range = await fs.readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '32768 60999');
    const [lo, hi] = range.trim().split(/\s+/).map(Number);
    if (lo > 0 && hi >= lo) this.ephemeral = [lo, hi];

    // Endpoints whose namespace is gone (host reboot, or crashed half-way) are not live any more.
    const mounted = await mountPoints();
    for (const rec of this.containers.values()) {
      if (rec.mode !== 'bridge' || !rec.live) continue;
      if (!rec.netnsPath || !mounted.has(rec.netnsPath)) {
        this.log.info({ container: rec.id }, 'endpoint namespace is gone; releasing its addresses and ports');
        await deleteLinks(rec.attachments.map((a) => a.hostVeth));
        await removeNetns(this.netnsPath(rec.id));
        this.dropRuntime(rec);
        await this.store.saveContainer(rec);
      }
    }
    // Namespace files no record owns (a crash between plumbing and saving): unmount and remove them.
    const nsDir = join(this.config.execRoot, 'netns');
    for (const f of await fs.readdir(nsDir).catch(() => [] as string[])) {
      const rec = this.containers.get(f);
      if (!rec || !rec.live || rec.netnsPath !== join(nsDir, f)) {
        this.log.info({ file: f }, 'removing a leftover network namespace');
        await removeNetns(join(nsDir, f));
      }
    }
    // Addresses in use are exactly those of live endpoints: rebuild every allocation table from them.
    for (const n of this.networks.values()) {
      if (!n.pool) continue;
      const alloc = { allocated: {} as Record<string, string>, last: n.alloc?.last };
      for (const rec of this.containers.values()) for (const a of rec.attachments) if (a.networkId === n.id && a.ip) alloc.allocated[a.ip] = rec.id;
      n.alloc = alloc;
      await this.store.saveNetwork(n);
    }
    await setSysctl('net/ipv4/ip_forward', '1');
    await ensureBridges(this.bridgeSpecs());
    // Overlay networks this node was in: their vxlan devices too (gone after a reboot); the
    // cluster sends their peers again when the agent's session starts.
    const links = new Set((await listLinks()).map((l) => l.ifname));
    for (const n of this.networks.values()) {
      if (n.driver !== 'overlay' || n.vni === undefined || !n.local) continue;
      await createVxlan({ vni: n.vni, local: n.local, mtu: n.mtu ?? 1500 - VXLAN_OVERHEAD, exists: links.has(overlayDevices(n.vni).vxlan) });
    }
    await this.applyNft();
    for (const n of this.networks.values()) if (this.wantsDns(n)) await this.startDns(n);
    this.log.info({ networks: this.networks.size, endpoints: this.containers.size, table: this.table }, 'networking ready');
  }

  private async ensurePredefined(): Promise<void> {
    const pool = poolFromGatewayCidr(this.config.bridge.cidr);
    const byName = (name: string) => [...this.networks.values()].find((n) => n.predefined && n.name === name);
    const base = (name: string, driver: NetworkRecord['driver']): NetworkRecord => ({
      id: newId(),
      name,
      driver,
      created: new Date().toISOString(),
      internal: false,
      attachable: false,
      labels: {},
      options: {},
      predefined: true,
      ipamConfig: [],
      ipamOptions: {},
      masquerade: true,
    });
    let bridge = byName('bridge');
    if (!bridge) bridge = base('bridge', 'bridge');
    const changed = bridge.bridge !== this.config.bridge.name || bridge.pool?.subnet !== pool.subnet || bridge.pool?.gateway !== pool.gateway;
    bridge.bridge = this.config.bridge.name;
    bridge.pool = pool;
    bridge.alloc ??= newAllocations();
    bridge.options = {
      'com.docker.network.bridge.default_bridge': 'true',
      'com.docker.network.bridge.enable_icc': 'true',
      'com.docker.network.bridge.enable_ip_masquerade': 'true',
      'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
      'com.docker.network.bridge.name': this.config.bridge.name,
      'com.docker.network.driver.mtu': '1500',
    };
    if (changed) this.log.info({ bridge: bridge.bridge, subnet: pool.subnet }, 'default bridge configured');
    this.networks.set(bridge.id, bridge);
    await this.store.saveNetwork(bridge);
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
      if (byName(name)) continue;
      const n = base(name, driver);
      this.networks.set(n.id, n);
      await this.store.saveNetwork(n);
    }
  }

  private bridgeSpecs() {
    return [...this.networks.values()]
      .filter((n) => (n.driver === 'bridge' || n.driver === 'overlay') && n.bridge && n.pool)
      .map((n) => ({ name: n.bridge!, mac: bridgeMac(n.bridge!, this.daemonKey), gateway: n.pool!.gateway, prefix: prefixLength(n.pool!) }));
  }

  private nftState(): NftState {
    const nets = [...this.networks.values()].filter((n) => (n.driver === 'bridge' || n.driver === 'overlay') && n.bridge && n.pool);
    const ports: NftState['ports'] = [];
    for (const rec of this.containers.values()) {
      if (!rec.live) continue;
      const target = rec.attachments.find((a) => a.ip);
      if (!target) continue;
      for (const p of rec.ports) ports.push({ proto: p.proto, hostIp: p.hostIp === '0.0.0.0' ? undefined : p.hostIp, hostPort: p.hostPort, containerIp: target.ip!, containerPort: p.containerPort });
    }
    return {
      table: this.table,
      networks: nets.map((n) => ({ bridge: n.bridge!, subnet: n.pool!.subnet, internal: n.internal, masquerade: n.masquerade })),
      ports,
      vips: this.vipBackends(),
      mesh: this.meshState(),
    };
  }

  /** The routing mesh's ports on this node, from the ingress network's Peers. */
  private meshState(): NftMesh | undefined {
    const n = [...this.networks.values()].find((x) => x.driver === 'overlay' && x.ingress);
    const seen = n && this.swarmPeers.get(n.id);
    if (!n || !seen) return undefined;
    const ports = new Map<string, NftMeshPort>();
    for (const p of seen.peers) {
      for (const port of p.Ports ?? []) {
        const proto = (port.Protocol === 'udp' ? 'udp' : 'tcp') as Proto;
        const key = `${proto}/${port.PublishedPort}`;
        const e = ports.get(key) ?? { proto, published: port.PublishedPort, target: port.TargetPort, backends: [], local: [] };
        if (p.Running && !e.backends.includes(p.IP)) {
          e.backends.push(p.IP);
          if (p.Node === seen.local) e.local.push(p.IP);
        }
        ports.set(key, e);
      }
    }
    for (const e of ports.values()) {
      e.backends.sort();
      e.local.sort();
    }
    return { bridge: n.bridge!, source: n.meshAddr, ports: [...ports.values()] };
  }

  /** Each VIP of the swarm networks here, with its running tasks (from the cluster's Peers). */
  private vipBackends(): Array<{ vip: string; backends: string[]; local: string[] }> {
    const vips = new Map<string, { backends: string[]; local: string[] }>();
    for (const n of this.networks.values()) {
      if (n.driver !== 'overlay') continue;
      const seen = this.swarmPeers.get(n.id);
      for (const p of (seen?.peers ?? [])) {
        if (!p.VIP) continue;
        const v = vips.get(p.VIP) ?? { backends: [], local: [] };
        if (p.Running && !v.backends.includes(p.IP)) {
          v.backends.push(p.IP);
          if (p.Node === seen!.local) v.local.push(p.IP);
        }
        vips.set(p.VIP, v);
      }
    }
    return [...vips].map(([vip, v]) => ({ vip, backends: v.backends.sort(), local: v.local.sort() }));
  }

  /** Re-render the whole table from current state and swap it in atomically; calls run in order. */
  private applyNft(): Promise<void> {
    return this.nftQueue.run(() => applyRuleset(this.nftState()));
  }

  // ---- lookups ----------------------------------------------------------------------------------

  /** A network by full ID, name, or unique ID prefix (Docker's order). */
  resolveNetwork(ref: string): NetworkRecord {
    const all = [...this.networks.values()];
    const hit = all.find((n) => n.id === ref) ?? all.find((n) => n.name === ref);
    if (hit) return hit;
    const byPrefix = ref ? all.filter((n) => n.id.startsWith(ref)) : [];
    if (byPrefix.length === 1) return byPrefix[0];
    if (byPrefix.length > 1) throw invalid(`network ${ref} is ambiguous (${byPrefix.length} matches found based on ID prefix)`);
    throw notFound(`network ${ref} not found`);
  }

  /** A local-scope network: the API's view. Overlay networks are the cluster's to show and remove. */
  private resolveLocal(ref: string): NetworkRecord {
    const n = this.resolveNetwork(ref);
    if (n.driver === 'overlay') throw notFound(`network ${ref} not found`);
    return n;
  }

  private defaultBridge(): NetworkRecord {
    return [...this.networks.values()].find((n) => n.predefined && n.name === 'bridge')!;
  }

  private inUse(n: NetworkRecord): boolean {
    for (const rec of this.containers.values()) {
      if (!rec.live) continue;
      if (rec.attachments.some((a) => a.networkId === n.id)) return true;
      if ((n.name === 'host' && rec.mode === 'host') || (n.name === 'none' && rec.mode === 'none')) if (n.predefined) return true;
    }
    return false;
  }

  private findContainer(ref: string): ContainerRecord | undefined {
    const all = [...this.containers.values()];
    const exact = all.find((c) => c.id === ref) ?? all.find((c) => c.name === ref.replace(/^\//, ''));
    if (exact) return exact;
    const byPrefix = ref.length >= 3 ? all.filter((c) => c.id.startsWith(ref)) : [];
    return byPrefix.length === 1 ? byPrefix[0] : undefined;
  }

  // ---- container endpoints ----------------------------------------------------------------------

  async setup(req: NetworkSetupRequest, signal?: AbortSignal): Promise<NetworkSetupResult> {
    const mode = req.networkMode || 'default';
    // Validate host entries before anything is made.
    req.extraHosts.forEach((h) => parseExtraHost(h, this.defaultBridge().pool!.gateway));
    if (mode === 'host' || mode === 'none') return this.setupShared(req, mode);
    if (mode.startsWith('container:')) return this.setupJoin(req, mode.slice('container:'.length));

    const leases = await this.attachSwarm(req, signal);
    const planned = this.lock.run(async () => {
      const prev = this.containers.get(req.containerId);
      const nsPath = this.netnsPath(req.containerId);
      // A previous run (or a crash half-way) left something behind: take it all down first.
      if (prev?.live || (await fileExists(nsPath))) {
        await deleteLinks((prev?.attachments ?? []).map((a) => a.hostVeth));
        await removeNetns(nsPath);
        if (prev) this.dropRuntime(prev);
      }
      const rec = this.planEndpoints(req, prev);
      const specs: VethSpec[] = [];
      try {
        rec.attachments.forEach((att, i) => {
          const n = this.networks.get(att.networkId)!;
          const lease = leases.get(n.id);
          // On a swarm network every address is the cluster's: a task's came with it, anyone else's is leased.
          if (n.driver === 'overlay' && !lease && !att.requestedIp) throw forbidden(`network ${n.name} is a swarm network: this container has no address on it from the cluster`);
          att.ip = allocate(n.pool!, n.alloc!, rec.id, lease ? lease.address.split('/')[0] : att.requestedIp);
          if (lease) att.swarmAttachment = lease.attachmentId;
          att.ifname = `eth${i}`;
          att.mac = macForIp(att.ip);
          att.hostVeth = newHostVethName();
          specs.push({ ifname: att.ifname, hostVeth: att.hostVeth, mac: att.mac, ip: att.ip, prefix: prefixLength(n.pool!), gateway: i === 0 ? n.pool!.gateway : undefined, bridge: n.bridge!, mtu: n.mtu, hairpin: n.driver === 'overlay' });
        });
        rec.ports = this.assignPorts(rec);
      } catch (e) {
        this.dropRuntime(rec);
        throw e;
      }
      rec.live = true;
      rec.netnsPath = nsPath;
      this.containers.set(rec.id, rec);
      this.version++;
      // The record goes to disk before anything is plumbed: a crash from here on is found and replaced.
      await this.store.saveContainer(rec);
      return { rec, specs, create: nsPath };
    });
    const { rec, specs, create } = await planned.catch(async (e) => {
      await this.detachLeases([...leases.values()].map((l) => l.attachmentId));
      throw e;
    });

    try {
      await createNetns(create, specs, signal);
      if (rec.ports.length) await this.applyNft();
    } catch (e) {
      this.log.warn({ container: rec.id, err: errorMessage(e) }, 'network setup failed; undoing it');
      await this.releaseQuietly(rec.id, true).catch(() => undefined);
      throw e;
    }
    for (const att of rec.attachments) this.emit('connect', this.networks.get(att.networkId)!, rec.id);
    return this.result(rec);
  }

  // ---- plain containers on swarm networks ---------------------------------------------------------

  /** The agent hands this over while the node is in a swarm, and takes it back when it leaves. */
  setSwarmAttacher(attacher: SwarmAttacher | undefined): void {
    this.attacher = attacher;
  }

  /** A network by reference, or undefined when there is none here (an ambiguous prefix still throws). */
  private findNetwork(ref: string): NetworkRecord | undefined {
    try {
      return this.resolveNetwork(ref);
    } catch (e) {
      if (isShoalError(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
  }

  /**
   * A plain container's swarm networks (named by its config, or joined before it stopped), each
   * attached through the cluster, which chooses the address; the node joins each network.
   * Task containers' endpoints carry their task's address and are left alone. On failure,
   * whatever was attached is detached again.
   */
  private async attachSwarm(req: NetworkSetupRequest, signal?: AbortSignal): Promise<Map<string, SwarmLease>> {
    const prev = this.containers.get(req.containerId);
    const disconnected = new Set(prev?.disconnected ?? []);
    const wanted = new Map<string, EndpointSettings | undefined>();
    const epOf = (ref: string) => Object.entries(req.endpointsConfig ?? {}).find(([k]) => canonicalRef(k) === ref)?.[1];
    for (const ref of [canonicalRef(req.networkMode), ...Object.keys(req.endpointsConfig ?? {}).map(canonicalRef)]) wanted.set(ref, epOf(ref));
    for (const a of prev?.attachments ?? []) if (!wanted.has(a.networkId)) wanted.set(a.networkId, { Aliases: a.aliases });
    const leases = new Map<string, SwarmLease>();
    try {
      for (const [ref, ep] of wanted) {
        if (isTaskEndpoint(ep)) continue;
        const local = this.findNetwork(ref);
        if (local && (local.driver !== 'overlay' || disconnected.has(local.id) || leases.has(local.id))) continue;
        if (!local && !this.attacher) continue; // not a network at all: planning the endpoints says so
        const lease = await this.lease(local?.name ?? ref, local, req.containerId, req.name, ep, signal);
        if (leases.has(lease.network.id) || disconnected.has(lease.network.id)) {
          await this.detachLeases([lease.attachmentId]);
          continue;
        }
        leases.set(lease.network.id, lease);
      }
    } catch (e) {
      await this.detachLeases([...leases.values()].map((l) => l.attachmentId));
      throw e;
    }
    return leases;
  }

  /** One attachment through the cluster, and the node on the network. */
  private async lease(ref: string, local: NetworkRecord | undefined, containerId: string, name: string, ep: EndpointSettings | undefined, signal?: AbortSignal): Promise<SwarmLease> {
    const attacher = this.attacher;
    if (!attacher) throw forbidden(`network ${ref} is a swarm network and this node is not in a swarm`);
    if (ep?.IPAMConfig?.IPv4Address) throw invalid(`a container outside a service cannot choose its address on swarm network ${ref} (the cluster assigns it)`);
    const aliases = [...new Set([name.replace(/^\//, ''), ...(ep?.Aliases ?? []), shortId(containerId)].filter((a) => a))];
    const lease = await attacher.attach(local?.id ?? ref, containerId, aliases, signal);
    try {
      await this.ensureSwarmNetwork(lease.network);
    } catch (e) {
      await this.detachLeases([lease.attachmentId]);
      throw e;
    }
    return lease;
  }

  /** Give addresses back to the cluster; a failure is logged (the agent finds the attachment again on its next full set). */
  private async detachLeases(ids: string[]): Promise<void> {
    await Promise.all(
      ids.map(async (id) => {
        try {
          if (!this.attacher) throw unavailable('this node is no longer in a swarm');
          await this.attacher.detach(id);
        } catch (e) {
          this.log.warn({ attachment: id, err: errorMessage(e) }, 'cannot give a swarm network address back yet');
        }
      }),
    );
  }

  /** Plain containers' live attachments to swarm networks: attachment ID -> container and network. */
  swarmAttachments(): Map<string, { containerId: string; networkId: string }> {
    const out = new Map<string, { containerId: string; networkId: string }>();
    for (const rec of this.containers.values()) {
      if (!rec.live) continue;
      for (const a of rec.attachments) if (a.swarmAttachment) out.set(a.swarmAttachment, { containerId: rec.id, networkId: a.networkId });
    }
    return out;
  }

  /** The container's endpoints from its config, merged with what connect/disconnect changed since. */
  private planEndpoints(req: NetworkSetupRequest, prev: ContainerRecord | undefined): ContainerRecord {
    const disconnected = new Set(prev?.disconnected ?? []);
    const canonical = canonicalRef;
    const mode = canonical(req.networkMode);
    const wanted: Array<{ net: NetworkRecord; ep?: EndpointSettings }> = [];
    const add = (net: NetworkRecord, ep?: EndpointSettings) => {
      if (net.driver !== 'bridge' && net.driver !== 'overlay') throw invalid(`container cannot be connected to network ${net.name} together with other networks (driver ${net.driver})`);
      const have = wanted.find((w) => w.net.id === net.id);
      if (have) have.ep = have.ep ?? ep;
      else wanted.push({ net, ep });
    };
    const primary = this.resolveNetwork(mode);
    const epFor = (net: NetworkRecord) => Object.entries(req.endpointsConfig ?? {}).find(([key]) => { const k = canonical(key); return k === net.name || k === net.id || (k.length >= 3 && net.id.startsWith(k)); })?.[1];
    if (!disconnected.has(primary.id)) add(primary, epFor(primary));
    for (const key of Object.keys(req.endpointsConfig ?? {})) {
      const net = this.resolveNetwork(canonical(key));
      if (!disconnected.has(net.id)) add(net, req.endpointsConfig[key]);
    }
    // Networks connected while the container was not running.
    for (const a of prev?.attachments ?? []) {
      const net = this.networks.get(a.networkId);
      if (net && !wanted.some((w) => w.net.id === net.id)) add(net, { Aliases: a.aliases, IPAMConfig: a.requestedIp ? { IPv4Address: a.requestedIp } : null });
    }
    const attachments: Attachment[] = wanted.map(({ net, ep }) => this.newAttachment(net, ep));
    return {
      id: req.containerId,
      name: req.name.replace(/^\//, ''),
      hostname: req.hostname,
      mode: 'bridge',
      live: false,
      attachments,
      disconnected: [...disconnected],
      ports: [],
      ...requestSettings(req),
    };
  }

  private newAttachment(net: NetworkRecord, ep?: EndpointSettings): Attachment {
    const aliases = (ep?.Aliases ?? []).filter((a) => a);
    const requestedIp = ep?.IPAMConfig?.IPv4Address || undefined;
    if (net.predefined && requestedIp) throw invalid('user specified IP address is supported on user defined networks only');
    if (net.predefined && aliases.length) throw invalid('network-scoped aliases are only supported for user-defined networks');
    return { networkId: net.id, endpointId: newId(), hostVeth: newHostVethName(), aliases, requestedIp, links: ep?.Links ?? undefined };
  }

  /** Host ports for the container: published on its first network unless that one is internal. */
  private assignPorts(rec: ContainerRecord): Binding[] {
    const wanted = wantedBindings(rec.portBindings, rec.publishAll, rec.exposedPorts);
    const first = rec.attachments[0] && this.networks.get(rec.attachments[0].networkId);
    if (!wanted.length || !first || first.internal) return [];
    const taken: Binding[] = [];
    for (const other of this.containers.values()) if (other.live && other.id !== rec.id) taken.push(...other.ports);
    const listening = wanted.some((w) => !w.hostPorts) ? hostListeners() : new Set<string>();
    return assignHostPorts(wanted, taken, {
      ephemeral: this.ephemeral,
      random: (n) => randomInt(n),
      available: (proto: Proto, _ip: string, port: number) => !listening.has(`${proto}/${port}`),
    });
  }

  /** Forget addresses and ports of a record (in memory); the caller persists. */
  private dropRuntime(rec: ContainerRecord): void {
    for (const att of rec.attachments) {
      const n = this.networks.get(att.networkId);
      if (n?.alloc) releaseOwner(n.alloc, rec.id);
      att.ip = undefined;
      att.ifname = undefined;
      att.mac = undefined;
      att.swarmAttachment = undefined;
    }
    rec.ports = [];
    rec.live = false;
    this.version++;
  }

  private async setupShared(req: NetworkSetupRequest, mode: 'host' | 'none'): Promise<NetworkSetupResult> {
    const rec = await this.lock.run(async () => {
      const rec: ContainerRecord = {
        ...this.planShared(req),
        mode,
        live: true,
      };
      this.containers.set(rec.id, rec);
      await this.store.saveContainer(rec);
      return rec;
    });
    this.emit('connect', this.resolveNetwork(mode), rec.id);
    return this.result(rec);
  }

  private planShared(req: NetworkSetupRequest): ContainerRecord {
    return {
      id: req.containerId,
      name: req.name.replace(/^\//, ''),
      hostname: req.hostname,
      mode: 'none',
      live: false,
      attachments: [],
      disconnected: [],
      ports: [],
      ...requestSettings(req),
    };
  }

  private async setupJoin(req: NetworkSetupRequest, ref: string): Promise<NetworkSetupResult> {
    const rec = await this.lock.run(async () => {
      const target = this.findContainer(ref);
      if (!target || !target.live) throw conflict(`cannot join the network namespace of container ${ref}: it is not running`);
      if (target.mode === 'container') throw invalid(`cannot join container ${ref}: it shares another container's network namespace itself`);
      const rec: ContainerRecord = { ...this.planShared(req), mode: 'container', sharedWith: target.id, live: true };
      this.containers.set(rec.id, rec);
      await this.store.saveContainer(rec);
      return rec;
    });
    return this.result(rec);
  }

  /**
   * Free a container's runtime resources (netns, links, addresses, host ports) but remember its
   * networks, for a container that stopped; `teardown` also forgets it.
   */
  async release(containerId: string): Promise<void> {
    await this.releaseQuietly(containerId, false);
  }

  /** release(); `quiet` for undoing a setup that failed (no connect was announced, so no disconnect). */
  private async releaseQuietly(containerId: string, quiet: boolean): Promise<void> {
    const r = await this.lock.run(async () => {
      const rec = this.containers.get(containerId);
      const nsPath = this.netnsPath(containerId);
      if (!rec) return { veths: [] as string[], nsPath, hadPorts: false, nets: [] as NetworkRecord[], leases: [] as string[] };
      const veths = rec.mode === 'bridge' ? rec.attachments.map((a) => a.hostVeth) : [];
      const hadPorts = rec.ports.length > 0;
      const nets = rec.live ? this.liveNetworks(rec) : [];
      const leases = rec.attachments.map((a) => a.swarmAttachment).filter((x): x is string => !!x);
      this.dropRuntime(rec);
      rec.netnsPath = undefined;
      await this.store.saveContainer(rec);
      return { veths, nsPath, hadPorts, nets, leases };
    });
    // Unmounting the namespace lets the kernel destroy it, and the veth pairs with it; the reaper
    // deletes what is still there later (a namespace something else still holds).
    await removeNetns(r.nsPath);
    if (r.veths.length) this.reaper.add(r.veths);
    if (r.hadPorts) await this.applyNft();
    if (r.leases.length) await this.detachLeases(r.leases);
    if (!quiet) for (const n of r.nets) this.emit('disconnect', n, containerId);
  }

  /** Wait for background cleanups (tests, close). */
  async settled(): Promise<void> {
    await this.reaper.flush();
  }

  private liveNetworks(rec: ContainerRecord): NetworkRecord[] {
    if (rec.mode === 'host' || rec.mode === 'none') return [this.resolveNetwork(rec.mode)];
    return rec.attachments.map((a) => this.networks.get(a.networkId)).filter((n): n is NetworkRecord => !!n);
  }

  async teardown(containerId: string): Promise<void> {
    await this.release(containerId);
    await this.lock.run(async () => {
      this.containers.delete(containerId);
      this.version++;
      await this.store.deleteContainer(containerId);
    });
  }

  async connect(containerId: string, network: string, endpoint: EndpointSettings, opts: { running?: boolean; name?: string } = {}): Promise<NetworkSetupResult> {
    // A swarm network: the cluster gives the address (kept only while the container runs).
    const local = this.findNetwork(network);
    let lease: SwarmLease | undefined;
    if ((local ? local.driver === 'overlay' : !!this.attacher) && !isTaskEndpoint(endpoint)) {
      lease = await this.lease(local?.name ?? network, local, containerId, opts.name ?? this.containers.get(containerId)?.name ?? shortId(containerId), endpoint);
      network = lease.network.id;
    }
    const planned = this.lock.run(async () => {
      const net = this.resolveNetwork(network);
      let rec = this.containers.get(containerId);
      if (net.driver === 'host' || net.driver === 'null') throw forbidden(`container cannot be disconnected from host network or connected to ${net.name} network`);
      if (rec?.mode === 'host') throw forbidden('container sharing network namespace with host cannot be connected to a network');
      if (rec?.mode === 'none') throw forbidden('container cannot be connected to multiple networks with one of the networks in private (none) mode');
      if (rec?.mode === 'container') throw forbidden('conflicting options: container type network can\'t be used with multiple networks');
      if (!rec) {
        const name = (opts.name ?? shortId(containerId)).replace(/^\//, '');
        rec = { ...this.planShared({ containerId, name, hostname: shortId(containerId), networkMode: net.name, endpointsConfig: {}, portBindings: {}, publishAll: false, exposedPorts: [], dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [] }), mode: 'bridge' };
      }
      if (rec.attachments.some((a) => a.networkId === net.id)) throw forbidden(`endpoint with name ${rec.name} already exists in network ${net.name}`);
      const att = this.newAttachment(net, endpoint);
      rec.disconnected = rec.disconnected.filter((id) => id !== net.id);
      let spec: VethSpec | undefined;
      const live = rec.live && opts.running !== false && rec.netnsPath;
      if (live) {
        att.ip = allocate(net.pool!, net.alloc!, rec.id, lease ? lease.address.split('/')[0] : att.requestedIp);
        att.swarmAttachment = lease?.attachmentId;
        const used = new Set(rec.attachments.map((a) => a.ifname));
        let i = 0;
        while (used.has(`eth${i}`)) i++;
        att.ifname = `eth${i}`;
        att.mac = macForIp(att.ip);
        spec = { ifname: att.ifname, hostVeth: att.hostVeth, mac: att.mac, ip: att.ip, prefix: prefixLength(net.pool!), bridge: net.bridge!, gateway: rec.attachments.length === 0 ? net.pool!.gateway : undefined, mtu: net.mtu, hairpin: net.driver === 'overlay' };
      }
      rec.attachments.push(att);
      this.containers.set(rec.id, rec);
      this.version++;
      await this.store.saveContainer(rec);
      return { rec, spec, net };
    });
    const { rec, spec, net } = await planned.catch(async (e) => {
      if (lease) await this.detachLeases([lease.attachmentId]);
      throw e;
    });
    // Not running: the container keeps the network, and attaches again when it starts.
    if (lease && !spec) await this.detachLeases([lease.attachmentId]);
    if (spec) {
      try {
        await addLinks(rec.netnsPath!, [spec]);
      } catch (e) {
        await this.lock.run(async () => {
          rec.attachments = rec.attachments.filter((a) => a.networkId !== net.id);
          releaseOwnerIp(net, rec.id, spec.ip);
          this.version++;
          await this.store.saveContainer(rec);
        });
        await deleteLinks([spec.hostVeth]);
        if (lease) await this.detachLeases([lease.attachmentId]);
        throw e;
      }
      this.emit('connect', net, rec.id);
    }
    return this.result(rec);
  }

  async disconnect(containerId: string, network: string, force: boolean): Promise<NetworkSetupResult> {
    const r = await this.lock.run(async () => {
      const net = this.resolveNetwork(network);
      const rec = this.containers.get(containerId);
      if (rec && (rec.mode === 'host' || rec.mode === 'none') && net.name === rec.mode) throw forbidden(`container cannot be disconnected from host network or connected to host network`);
      const att = rec?.attachments.find((a) => a.networkId === net.id);
      if (!rec || !att) {
        if (force) return undefined;
        throw forbidden(`container ${containerId} is not connected to network ${net.name}`);
      }
      const wasFirst = rec.attachments[0] === att;
      rec.attachments = rec.attachments.filter((a) => a !== att);
      if (!rec.disconnected.includes(net.id)) rec.disconnected.push(net.id);
      const hadPorts = wasFirst && rec.ports.length > 0;
      if (att.ip) releaseOwnerIp(net, rec.id, att.ip);
      if (hadPorts) rec.ports = [];
      this.version++;
      await this.store.saveContainer(rec);
      return { rec, att, net, hadPorts };
    });
    if (!r) {
      const rec = this.containers.get(containerId);
      return rec ? this.result(rec) : this.emptyResult();
    }
    if (r.att.ip) {
      // A hot-removed interface must be gone when disconnect returns: delete it now.
      await deleteLinks([r.att.hostVeth]);
      this.emit('disconnect', r.net, containerId);
    }
    if (r.att.swarmAttachment) await this.detachLeases([r.att.swarmAttachment]);
    if (r.hadPorts) await this.applyNft();
    return this.result(r.rec);
  }

  /** The current view of a container's networking (as setup returned it). */
  async inspectEndpoints(containerId: string): Promise<NetworkSetupResult | undefined> {
    const rec = this.containers.get(containerId);
    return rec ? this.result(rec) : undefined;
  }

  private emptyResult(): NetworkSetupResult {
    return { hostNetwork: false, networks: {}, ports: {}, hosts: '', resolvConf: '' };
  }

  private async hostResolv(): Promise<ResolvConf> {
    const now = Date.now();
    if (this.upstreamCache && now - this.upstreamCache.at < 2000) return this.upstreamCache.conf;
    const text = await fs.readFile(this.opts.resolvConfPath ?? '/etc/resolv.conf', 'utf8').catch(() => '');
    const conf = parseResolvConf(text);
    this.upstreamCache = { at: now, conf };
    return conf;
  }

  private async result(rec: ContainerRecord): Promise<NetworkSetupResult> {
    const host = await this.hostResolv();
    const gw = this.defaultBridge().pool!.gateway;
    const extra = rec.extraHosts.map((h) => parseExtraHost(h, gw));
    const base = { dns: rec.dns, dnsSearch: rec.dnsSearch, dnsOptions: rec.dnsOptions, host };
    if (rec.mode === 'host' || rec.mode === 'none') {
      const n = this.resolveNetwork(rec.mode);
      const hostFile = rec.mode === 'host' ? await fs.readFile(this.opts.hostsPath ?? '/etc/hosts', 'utf8').catch(() => '') : undefined;
      return {
        netnsPath: undefined,
        hostNetwork: rec.mode === 'host',
        networks: { [n.name]: { IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', NetworkID: n.id, EndpointID: rec.live ? endpointIdFor(n, rec) : '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null } },
        ports: {},
        hosts: renderHosts({ hostname: rec.hostname, ips: [], extraHosts: extra, hostFile }),
        resolvConf: renderResolvConf({ ...base, hostNetwork: rec.mode === 'host' }),
      };
    }
    if (rec.mode === 'container') {
      const target = this.containers.get(rec.sharedWith!);
      if (!target) throw notFound(`container ${rec.sharedWith} is gone`);
      const r = await this.result(target);
      return { ...r, networks: {}, ports: {} };
    }
    const networks: Record<string, EndpointSettings> = {};
    for (const att of rec.attachments) {
      const n = this.networks.get(att.networkId);
      if (n) networks[n.name] = endpointSettings(n, rec, att);
    }
    // Any user-defined network brings the embedded DNS (as dockerd starts its resolver when an
    // endpoint joins one), also for a container that started on the default bridge.
    const userNet = rec.attachments.map((a) => this.networks.get(a.networkId)).find((n) => n && !n.predefined);
    const embedded = userNet ? userNet.pool!.gateway : undefined;
    // One line per endpoint, as dockerd writes it (a connected network adds its address).
    const ips = rec.attachments.filter((a) => a.ip).map((a) => a.ip!);
    return {
      netnsPath: rec.live ? rec.netnsPath : undefined,
      hostNetwork: false,
      networks,
      ports: portsReport(rec.exposedPorts, rec.portBindings, rec.ports),
      hosts: renderHosts({ hostname: rec.hostname, ips, extraHosts: extra }),
      resolvConf: renderResolvConf({ ...base, embedded }),
    };
  }

  // ---- networks ---------------------------------------------------------------------------------

  async createNetwork(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    const name = (req.Name ?? '').trim();
    if (!name) throw invalid('network name is required');
    if (!NAME_RE.test(name)) throw invalid(`invalid network name '${name}': only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (PREDEFINED.includes(name)) throw forbidden(`${name} is a pre-defined network and cannot be created`);
    const driver = req.Driver || 'bridge';
    if (driver !== 'bridge') throw invalid(`network driver '${driver}' is not supported: shoal's local networks use the bridge driver`);
    if (req.Ingress) throw forbidden('ingress networks need swarm mode');
    if (req.ConfigOnly || req.ConfigFrom?.Network) throw invalid('config-only networks are not supported');
    if (req.EnableIPv6) throw invalid('IPv6 networks are not supported');
    if (req.EnableIPv4 === false) throw invalid('a bridge network needs IPv4');
    if (req.Scope && req.Scope !== 'local') throw invalid(`network scope '${req.Scope}' is not supported for bridge networks`);
    if (req.IPAM?.Driver && req.IPAM.Driver !== 'default') throw invalid(`IPAM driver '${req.IPAM.Driver}' is not supported`);
    const configs = (req.IPAM?.Config ?? []).filter((c) => !(c.Subnet ?? '').includes(':'));
    if ((req.IPAM?.Config ?? []).length !== configs.length) throw invalid('IPv6 subnets are not supported');
    if (configs.length > 1) throw invalid('only one IPv4 subnet per network is supported');
    const options = { ...(req.Options ?? {}) };
    const labels = { ...(req.Labels ?? {}) };
    for (const [k, v] of Object.entries({ ...options, ...labels })) if (typeof v !== 'string') throw invalid(`option or label ${k}: value must be a string`);
    const masq = options[OPT_MASQUERADE];
    if (masq !== undefined && !['true', 'false'].includes(masq)) throw invalid(`invalid ${OPT_MASQUERADE} '${masq}': expected true or false`);

    const record = await this.lock.run(async () => {
      if ([...this.networks.values()].some((n) => n.name === name)) throw conflict(`network with name ${name} already exists`);
      const id = newId();
      const bridge = options[OPT_BRIDGE_NAME] || `br-${id.slice(0, 12)}`;
      if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge)) throw invalid(`invalid bridge name '${bridge}' (at most 15 of [a-zA-Z0-9_.-])`);
      if ([...this.networks.values()].some((n) => n.bridge === bridge)) throw conflict(`bridge ${bridge} is already used by another network`);
      const used = [...this.networks.values()].filter((n) => n.pool).map((n) => ({ subnet: n.pool!.subnet, network: n.name }));
      const pool = choosePool(configs[0], used, configs[0]?.Subnet ? [] : await hostRoutes());
      const n: NetworkRecord = {
        id,
        name,
        driver: 'bridge',
        created: new Date().toISOString(),
        internal: !!req.Internal,
        attachable: !!req.Attachable,
        labels,
        options,
        predefined: false,
        bridge,
        pool,
        ipamConfig: configs,
        ipamOptions: req.IPAM?.Options ?? {},
        alloc: newAllocations(),
        masquerade: masq !== 'false',
      };
      if (!options[OPT_BRIDGE_NAME]) {
        // A name the user did not choose must not take over somebody else's device.
        const existing = await fileExists(`/sys/class/net/${bridge}`);
        if (existing) throw conflict(`a network device named ${bridge} already exists`);
      }
      this.networks.set(id, n);
      try {
        await ensureBridges([{ name: bridge, mac: bridgeMac(bridge, this.daemonKey), gateway: pool.gateway, prefix: prefixLength(pool) }]);
        await this.applyNft();
        await this.store.saveNetwork(n);
      } catch (e) {
        this.networks.delete(id);
        await deleteBridge(bridge).catch(() => undefined);
        await this.applyNft().catch(() => undefined);
        throw e;
      }
      return n;
    });
    if (this.wantsDns(record)) await this.startDns(record);
    this.emit('create', record);
    return { Id: record.id, Warning: '' };
  }

  async removeNetwork(ref: string): Promise<void> {
    const n = await this.lock.run(async () => {
      const n = this.resolveLocal(ref);
      if (n.predefined) throw forbidden(`${n.name} is a pre-defined network and cannot be removed`);
      if (this.inUse(n)) throw forbidden(`error while removing network: network ${n.name} id ${n.id} has active endpoints`);
      await this.stopDns(n.id);
      if (n.bridge) await deleteBridge(n.bridge);
      this.networks.delete(n.id);
      // Containers that were connected while stopped forget the network, as it is gone.
      for (const rec of this.containers.values()) {
        if (!rec.attachments.some((a) => a.networkId === n.id)) continue;
        rec.attachments = rec.attachments.filter((a) => a.networkId !== n.id);
        await this.store.saveContainer(rec);
      }
      await this.store.deleteNetwork(n.id);
      this.version++;
      return n;
    });
    await this.applyNft();
    this.emit('destroy', n);
  }

  // ---- overlay networks (swarm) ------------------------------------------------------------------

  /**
   * Take part in a swarm network: its bridge (gateway address, fixed MAC, overlay MTU), its vxlan
   * device and its NAT rule. Idempotent; the first task on the network calls it before its
   * container is created. `local` is this node's address, the tunnel's source.
   */
  async ensureSwarmNetwork(def: SwarmNetworkDef): Promise<void> {
    const made = await this.lock.run(async () => {
      const cur = this.networks.get(def.id);
      if (cur && cur.vni === def.vni && cur.pool?.subnet === def.subnet) return undefined;
      if (cur) throw conflict(`swarm network ${def.name} changed its subnet or VXLAN ID while ${cur.bridge} exists`);
      const { bridge, vxlan } = overlayDevices(def.vni);
      const mtu = (def.linkMtu ?? 1500) - VXLAN_OVERHEAD;
      const n: NetworkRecord = {
        id: def.id,
        name: def.name,
        driver: 'overlay',
        created: new Date().toISOString(),
        internal: !!def.internal,
        attachable: !!def.attachable,
        labels: { ...(def.labels ?? {}) },
        options: {},
        predefined: false,
        bridge,
        pool: { subnet: def.subnet, gateway: def.gateway, aux: {} },
        ipamConfig: [],
        ipamOptions: {},
        alloc: newAllocations(),
        masquerade: !def.internal,
        vni: def.vni,
        mtu,
        local: def.local,
        ...(def.ingress ? { ingress: true } : {}),
      };
      this.networks.set(n.id, n);
      try {
        await ensureBridges([{ name: bridge, mac: bridgeMac(bridge, this.daemonKey), gateway: def.gateway, prefix: prefixLength(n.pool!) }]);
        const exists = (await listLinks()).some((l) => l.ifname === vxlan);
        await createVxlan({ vni: def.vni, local: def.local, mtu, exists });
        await this.store.saveNetwork(n);
        this.version++;
      } catch (e) {
        this.networks.delete(n.id);
        await deleteBridge(vxlan).catch(() => undefined);
        await deleteBridge(bridge).catch(() => undefined);
        throw e;
      }
      return n;
    });
    if (!made) return;
    await this.applyNft();
    if (this.wantsDns(made)) await this.startDns(made);
    const peers = this.swarmPeers.get(def.id);
    if (peers) await this.setSwarmPeers(def.id, peers.peers, peers.local);
    this.log.info({ network: def.name, vni: def.vni, subnet: def.subnet }, 'joined an overlay network');
  }

  /** Where the other tasks on a swarm network live; kept for later when the network is not here yet. */
  async setSwarmPeers(id: string, peers: readonly NetworkPeer[], local: string): Promise<void> {
    // The rules that follow peers (VIP backends, the mesh): re-applied only when they change.
    const peerRules = () => JSON.stringify([this.vipBackends(), this.meshState()]);
    const before = peerRules();
    this.swarmPeers.set(id, { peers, local });
    this.version++; // the network's names changed
    const n = this.networks.get(id);
    if (!n || n.driver !== 'overlay' || n.vni === undefined) return;
    // Containers' ARP for a VIP is answered with the bridge's MAC, so the host's rules see the traffic.
    const mac = bridgeMac(n.bridge!, this.daemonKey);
    const vips = new Map(peers.filter((p) => p.VIP).map((p) => [p.VIP!, mac]));
    await this.overlayQueue.run(async () => {
      await programPeers(overlayDevices(n.vni!).vxlan, peers, local, vips);
      if (n.ingress) await this.takeMeshAddress(n, peers.find((p) => p.NodeID && p.Node === local)?.IP);
    });
    if (peerRules() !== before) await this.applyNft();
  }

  /**
   * This node's own address on the ingress network, on its bridge: the source of mesh traffic
   * sent to a task on another node. Its MAC (derived from the address, as other nodes compute
   * it) is made one of the bridge's own, so replies tunnelled back are taken up by the host.
   */
  private async takeMeshAddress(n: NetworkRecord, ip: string | undefined): Promise<void> {
    if (n.meshAddr === ip) return;
    await setMeshAddress(n.bridge!, prefixLength(n.pool!), n.meshAddr, ip);
    n.meshAddr = ip;
    await this.store.saveNetwork(n);
  }

  /** Leave a swarm network once no container here uses it: devices, rule and record go. */
  async releaseSwarmNetwork(id: string): Promise<boolean> {
    const gone = await this.lock.run(async () => {
      const n = this.networks.get(id);
      if (!n || n.driver !== 'overlay') {
        this.swarmPeers.delete(id);
        return undefined;
      }
      // A stopped container keeps only the wish to be on the network: it attaches again when it starts.
      if ([...this.containers.values()].some((rec) => rec.live && rec.attachments.some((a) => a.networkId === id))) return undefined;
      const { bridge, vxlan } = overlayDevices(n.vni!);
      await this.stopDns(id);
      await deleteBridge(vxlan);
      await deleteBridge(bridge);
      this.networks.delete(id);
      this.swarmPeers.delete(id);
      await this.store.deleteNetwork(id);
      this.version++;
      return n;
    });
    if (!gone) return false;
    await this.applyNft();
    this.log.info({ network: gone.name }, 'left an overlay network');
    return true;
  }

  /** Leave every swarm network (swarm leave, after the tasks' containers are gone): devices, rules, records. */
  async leaveSwarmNetworks(): Promise<void> {
    for (const id of this.swarmNetworks()) {
      if (!(await this.releaseSwarmNetwork(id))) this.log.warn({ network: id }, 'a container still uses a swarm network after leaving the swarm; it stays');
    }
    this.swarmPeers.clear();
  }

  /** IDs of the swarm networks this node takes part in. */
  swarmNetworks(): string[] {
    return [...this.networks.values()].filter((n) => n.driver === 'overlay').map((n) => n.id);
  }

  async pruneNetworks(filters: Map<string, string[]>): Promise<string[]> {
    for (const k of filters.keys()) if (!['until', 'label', 'label!'].includes(k)) throw invalid(`invalid filter '${k}'`);
    const until = filters.get('until')?.[0];
    const untilMs = until ? parseUntil(until) : undefined;
    const removed: string[] = [];
    for (const n of [...this.networks.values()]) {
      if (n.predefined || n.driver === 'overlay' || this.inUse(n)) continue;
      if (untilMs !== undefined && Date.parse(n.created) >= untilMs) continue;
      if (!(filters.get('label') ?? []).every((l) => labelMatches(n.labels, l))) continue;
      if ((filters.get('label!') ?? []).some((l) => labelMatches(n.labels, l))) continue;
      try {
        await this.removeNetwork(n.id);
        removed.push(n.name);
      } catch (e) {
        this.log.debug({ network: n.name, err: errorMessage(e) }, 'prune skipped a network');
      }
    }
    return removed;
  }

  listNetworks(filters: Map<string, string[]> = new Map()): Array<Record<string, unknown>> {
    return [...this.networks.values()]
      .filter((n) => n.driver !== 'overlay' && networkMatches(n, filters, this.inUse(n)))
      .sort((a, b) => a.created.localeCompare(b.created))
      .map((n) => networkJson(n, this.containersOf(n)));
  }

  inspectNetwork(ref: string): Record<string, unknown> {
    const n = this.resolveLocal(ref);
    return networkJson(n, this.containersOf(n));
  }

  private containersOf(n: NetworkRecord) {
    if (n.driver !== 'bridge') {
      const out: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }> = {};
      for (const rec of this.containers.values()) if (rec.live && rec.mode === n.name) out[rec.id] = { Name: rec.name, EndpointID: endpointIdFor(n, rec), MacAddress: '', IPv4Address: '', IPv6Address: '' };
      return out;
    }
    return networkContainers(n, this.containers.values());
  }

  // ---- DNS ---------------------------------------------------------------------------------------

  private wantsDns(n: NetworkRecord): boolean {
    return (n.driver === 'bridge' || n.driver === 'overlay') && !n.predefined && !!n.pool;
  }

  private nameIndex(networkId: string): NameIndex {
    const cached = this.indexCache.get(networkId);
    if (cached && cached.version === this.version) return cached.index;
    const net = this.networks.get(networkId);
    // On a swarm network the cluster's view comes first; local containers add only their own
    // names (their aliases are their service's, which the cluster answers for).
    const overlay = net?.driver === 'overlay';
    const { names, reverse } = overlay ? clusterNames((this.swarmPeers.get(networkId)?.peers ?? [])) : { names: new Map<string, string[]>(), reverse: new Map<string, string>() };
    for (const rec of this.containers.values()) {
      if (!rec.live) continue;
      for (const att of rec.attachments) {
        if (att.networkId !== networkId || !att.ip) continue;
        const all = (overlay ? [rec.name, shortId(rec.id)] : dnsNames(rec, att)).map((s) => s.toLowerCase());
        if (net) all.push(...all.map((s) => `${s}.${net.name.toLowerCase()}`));
        for (const name of all) {
          const list = names.get(name) ?? [];
          if (!list.includes(att.ip)) list.push(att.ip);
          names.set(name, list);
        }
        reverse.set(att.ip, net ? `${rec.name}.${net.name}` : rec.name);
      }
    }
    const index: NameIndex = { lookup: (name) => names.get(name), reverse: (ip) => reverse.get(ip) };
    this.indexCache.set(networkId, { version: this.version, index });
    return index;
  }

  private async upstreamsFor(sourceIp: string): Promise<Upstream[]> {
    for (const rec of this.containers.values()) {
      if (rec.dns.length && rec.attachments.some((a) => a.ip === sourceIp)) return rec.dns.map((host) => ({ host, port: 53 }));
    }
    if (this.opts.dnsUpstreams) return this.opts.dnsUpstreams;
    return (await this.hostResolv()).nameservers.map((host) => ({ host, port: 53 }));
  }

  private async startDns(n: NetworkRecord): Promise<void> {
    if (this.dns.has(n.id) || this.closed) return;
    const netId = n.id;
    const handler = async (msg: Buffer, from: string, tcp: boolean): Promise<Buffer | undefined> => {
      const net = this.networks.get(netId);
      if (!net) return undefined;
      const d = handleQuery(msg, this.nameIndex(netId), { canForward: !net.internal, udp: !tcp, shuffle: rotate });
      if ('reply' in d) return d.reply;
      if ('drop' in d) return undefined;
      return (await forward(msg, await this.upstreamsFor(from), tcp)) ?? servfail(msg, !tcp);
    };
    try {
      this.dns.set(n.id, await DnsServer.start(n.pool!.gateway, handler, this.opts.dnsPort ?? 53));
    } catch (e) {
      this.log.warn({ network: n.name, address: n.pool!.gateway, err: errorMessage(e) }, 'cannot start the embedded DNS server; containers on this network will not resolve each other');
    }
  }

  private async stopDns(networkId: string): Promise<void> {
    const s = this.dns.get(networkId);
    this.dns.delete(networkId);
    await s?.close();
  }

  /** The address the embedded DNS server of a network listens on (undefined when it is not running). */
  dnsAddress(network: string): { address: string; port: number } | undefined {
    const s = this.dns.get(this.resolveNetwork(network).id);
    return s ? { address: s.address, port: s.port } : undefined;
  }

  // ---- life cycle --------------------------------------------------------------------------------

  /** Stop serving DNS. Bridges, rules and endpoints stay: containers keep running without the daemon. */
  async close(): Promise<void> {
    this.closed = true;
    await this.settled();
    this.reaper.stop();
    await this.lock.run(async () => {
      for (const id of [...this.dns.keys()]) await this.stopDns(id);
    });
  }

  /**
   * Remove everything this manager made on the host: endpoints, user bridges, the default bridge,
   * the nftables table (tests, and a daemon told to clean up). State files stay unless `forget`.
   */
  async purge(forget = false): Promise<void> {
    for (const id of [...this.containers.keys()]) await this.teardown(id);
    await this.close();
    for (const n of this.networks.values()) {
      if (n.vni !== undefined) await deleteBridge(overlayDevices(n.vni).vxlan);
      if (n.bridge) await deleteBridge(n.bridge);
    }
    await this.nftQueue.run(() => deleteTable(this.table));
    if (forget) await fs.rm(this.opts.root, { recursive: true, force: true });
  }

  get tableName(): string {
    return this.table;
  }

  private emit(action: 'create' | 'destroy' | 'connect' | 'disconnect', n: NetworkRecord, containerId?: string): void {
    const attrs: Record<string, string> = { name: n.name, type: n.driver };
    if (containerId) attrs.container = containerId;
    this.opts.events.publish('network', action, n.id, attrs);
  }
}

function releaseOwnerIp(n: NetworkRecord, owner: string, ip: string): void {
  if (n.alloc && n.alloc.allocated[ip] === owner) delete n.alloc.allocated[ip];
}

/** host/none endpoints have no attachment record: derive a stable endpoint ID. */
function endpointIdFor(n: NetworkRecord, rec: ContainerRecord): string {
  return createHash('sha256').update(`${n.id}|${rec.id}`).digest('hex');
}

/** Round-robin-ish order for names with several addresses, as Docker's resolver shuffles them. */
function rotate(ips: string[]): string[] {
  if (ips.length < 2) return ips;
  const k = randomInt(ips.length);
  return [...ips.slice(k), ...ips.slice(0, k)];
}

async function fileExists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Mount points of this mount namespace (to tell a live netns bind mount from a leftover file). */
async function mountPoints(): Promise<Set<string>> {
  const text = await fs.readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length > 4) out.add(f[4].replace(/\\(\d{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

/** Listening TCP and bound UDP ports of the host ("tcp/8080"), to keep random host ports clear of them. */
function hostListeners(): Set<string> {
  const out = new Set<string>();
  for (const [proto, file, state] of [['tcp', '/proc/net/tcp', '0A'], ['udp', '/proc/net/udp', '07']]) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 3 && f[3] === state) out.add(`${proto}/${parseInt(f[1].split(':')[1], 16)}`);
    }
  }
  return out;
}

function parseUntil(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return parseFloat(v) * 1000;
  const t = Date.parse(v);
  if (!Number.isNaN(t)) return t;
  try {
    return Date.now() - parseDurationMs(v, 'until');
  } catch {
    throw invalid(`invalid filter 'until=${v}': expected a timestamp or a duration`);
  }
}

/** What a container record keeps of its setup request (ports, DNS, extra hosts). */
function requestSettings(req: NetworkSetupRequest) {
  return {
    portBindings: req.portBindings ?? {},
    publishAll: !!req.publishAll,
    exposedPorts: req.exposedPorts ?? [],
    dns: req.dns ?? [],
    dnsSearch: req.dnsSearch ?? [],
    dnsOptions: req.dnsOptions ?? [],
    extraHosts: req.extraHosts ?? [],
  };
}
