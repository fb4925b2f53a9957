// A manager node: its etcd member and NATS server as supervised children, the store over
// etcd, the CA and the gRPC endpoint, and the leader election that starts the leader-only
// components. Everything here is composition; the logic lives in the modules it starts.
import { createNetwork, type AddressPools } from './networks';
import { hostRoutes } from '../shared/net/routes';
import 'reflect-metadata';
import { join } from 'node:path';
import { logger } from '../shared/log';
import { errorMessage, precondition, unavailable } from '../shared/errors';
import { Bus, nodeBusTls } from '../shared/bus';
import { followNodeCredentials, type CredentialsFollower } from '../shared/rpc/certstore';
import { ROLE_OU, certPaths, RpcServer, TlsIdentity, serverCredentials, loadNodeCredentials, addNodeCAService, addDispatcherService, addRaftMembershipService } from '../shared/rpc';
import { Dispatcher } from './dispatcher';
import { LeaderComponents } from './leader';
import type { ManagerStatus, Node, NodeAvailability, NodeDescription, Swarm, SwarmSpec } from '../shared/swarm';
import { EtcdMember, compileEtcdConfig, type EtcdClientTls } from './etcd';
import { NatsServer, compileNatsConfig } from './nats';
import { EtcdStore } from './store';
import { LeaderElection } from './election';
import { RootCA, NodeCAService, newJoinTokens, rotateJoinToken, newSwarmId, type JoinTokens, type NodeJoinInfo } from './ca';
import { swarmDir, type SwarmState } from './membership/state';
import { createDataKey, loadDataKey, type DataKey } from './secrets';
import { RaftHealth, RaftJoinService, RaftReconciler, managerPeersOf, reachableVoters, removalRefusal, voters, type RaftView } from './raft';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3 } from 'etcd3';

const log = logger('manager');

/** The CA's tokens in the API's spelling. */
const apiTokens = (t: JoinTokens): NonNullable<Swarm['JoinTokens']> => ({ Worker: t.worker, Manager: t.manager });

export interface ManagerOptions {
  dataRoot: string;
  state: SwarmState;
  /** Set on `swarm init` only: the cluster object to create. */
  bootstrap?: { spec: SwarmSpec; availability: NodeAvailability; description: NodeDescription; addressPools: AddressPools };
  /** Set when joining as a manager: the etcd group to join (from RaftMembership.Join). */
  join?: { initialCluster: Record<string, string> };
  /** swarm init --force-new-cluster: this start makes the etcd group this member alone, keeping its data. */
  forceNewCluster?: boolean;
}

/** How long a joining manager waits for its etcd learner to become a voter. */
const PROMOTION_WAIT_MS = 60_000;

export const caDir = (dataRoot: string) => join(swarmDir(dataRoot), 'ca');


export class Manager {
  readonly etcd: EtcdMember;
  readonly nats: NatsServer;
  store!: EtcdStore;
  bus!: Bus;
  rootCA!: RootCA;
  identity!: TlsIdentity;
  private rpc?: RpcServer;
  dispatcher?: Dispatcher;
  private election?: LeaderElection;
  private readonly stopping = new AbortController();
  private campaigning?: Promise<void>;
  private leading = false;
  /** The swarm leader's node ID as last observed ('' while unknown). */
  private swarmLeader = '';
  /** Kept here: the certificate store holds its followers weakly. */
  private natsReload?: CredentialsFollower;
  /** This manager's view of the Raft group (members, leader, reachability). */
  health?: RaftHealth;
  private etcdClient?: Etcd3;
  /** The cluster data key that seals secrets; made at init, loaded from the data root after. */
  dataKey?: DataKey;

  constructor(readonly opts: ManagerOptions) {
    const s = opts.state;
    const nodeCerts = certPaths(swarmDir(opts.dataRoot));
    const ports = s.ports!;
    this.etcd = new EtcdMember(
      compileEtcdConfig({
        name: s.nodeId,
        dataRoot: opts.dataRoot,
        // Only managers use etcd: clients on loopback, peers on the advertised address, all of
        // it mutual TLS with the node's certificate (renewed in place; etcd re-reads the files).
        clientUrls: [`https://127.0.0.1:${ports.etcdClient}`],
        peerUrl: `https://${s.advertiseAddr}:${ports.etcdPeer}`,
        tls: { certFile: nodeCerts.cert, keyFile: nodeCerts.key, caFile: nodeCerts.ca },
        initialCluster: opts.join?.initialCluster,
        initialClusterState: opts.join ? 'existing' : 'new',
        forceNewCluster: opts.forceNewCluster,
      }),
    );
    this.nats = new NatsServer(
      compileNatsConfig({
        name: s.nodeId,
        dataRoot: opts.dataRoot,
        listen: `0.0.0.0:${ports.natsClient}`,
        clusterListen: `${s.advertiseAddr}:${ports.natsCluster}`,
        token: s.busToken,
        routes: s.natsRoutes,
        tls: { certFile: nodeCerts.cert, keyFile: nodeCerts.key, caFile: nodeCerts.ca },
      }),
    );
  }

  get nodeId(): string {
    return this.opts.state.nodeId;
  }

  get clusterId(): string {
    return this.opts.state.clusterId;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** The bus URL workers publish to (the advertised address; the token comes with the session). */
  get busUrl(): string {
    return `nats://${this.opts.state.advertiseAddr}:${this.opts.state.ports!.natsClient}`;
  }

  /** Start everything; on failure, whatever started is stopped again and the error thrown. */
  async start(): Promise<void> {
    try {
      await this.startParts();
    } catch (e) {
      await this.stop().catch(() => undefined);
      throw e;
    }
  }

  private async startParts(): Promise<void> {
    const { dataRoot, state } = this.opts;
    const signal = this.stopping.signal;
    this.rootCA = await RootCA.load(caDir(dataRoot));
    const etcdTls = await this.etcdClientTls();
    this.etcd.clientTls = etcdTls;
    await Promise.all([this.etcd.start(signal), this.nats.start(signal)]);
    this.etcdClient = this.etcd.client();
    this.health = new RaftHealth({ client: this.etcdClient, self: state.nodeId, tls: () => etcdTls });
    await this.health.start(signal);
    // A joining member starts as a learner, which serves no reads or writes: wait for its promotion.
    if (this.opts.join) await this.untilVoter(signal);
    this.store = new EtcdStore(this.etcd.client(), { gate: this.health }, true);
    this.bus = await Bus.connect(this.nats.url, { token: state.busToken, name: `manager-${state.nodeId}`, tls: nodeBusTls(swarmDir(dataRoot)) });
    // nats-server reads its certificate files only at start and reload: reload when they change.
    this.natsReload = { update: () => void this.nats.reload() };
    followNodeCredentials(swarmDir(dataRoot), this.natsReload);
    // The key before the cluster object: a cluster never exists without its data key.
    this.dataKey = this.opts.bootstrap ? await createDataKey(swarmDir(dataRoot)) : await loadDataKey(swarmDir(dataRoot));
    if (!this.dataKey) log.warn('this manager has no cluster data key: secrets cannot be created, read or sent from here');
    if (this.opts.bootstrap) await this.bootstrap(this.opts.bootstrap);
    const creds = await loadNodeCredentials(swarmDir(dataRoot));
    if (!creds) throw unavailable(`this manager has no certificate under ${swarmDir(dataRoot)}; leave the swarm with --force and join again`);
    this.identity = new TlsIdentity(creds);
    this.rpc = new RpcServer();
    addNodeCAService(
      this.rpc,
      new NodeCAService({
        rootCA: this.rootCA,
        clusterId: state.clusterId,
        joinTokens: () => this.joinTokens(),
        registerNode: (id, role, info) => this.registerNode(id, role, info),
        newNodeId: newSwarmId,
        // The CA, the certificate expiry and nodes' roles (promote/demote) come from the store.
        store: this.store,
        dataKey: () => this.dataKey,
      }),
    );
    addRaftMembershipService(
      this.rpc,
      new RaftJoinService({
        store: this.store,
        etcd: this.etcdClient,
        clusterId: state.clusterId,
        peerScheme: 'https',
        ca: () => ({ certPem: this.rootCA.certPem, keyPem: this.rootCA.keyPem }),
        dataKey: () => this.dataKey?.key,
        busToken: state.busToken ?? '',
        managers: async (except) => {
          const peers = managerPeersOf(this.health!.view(), { reachableOnly: false }).filter((p) => p.nodeId !== except);
          return { grpc: peers.map((p) => p.grpc), natsRoutes: peers.map((p) => p.natsRoute) };
        },
      }),
    );
    // Every manager serves the dispatcher; only the leader's is started (the others answer UNAVAILABLE).
    this.dispatcher = new Dispatcher({
      store: this.store,
      clusterId: state.clusterId,
      managers: () => managerPeersOf(this.health!.view()).map((p) => ({ nodeId: p.nodeId, addr: p.grpc, weight: p.leader ? 10 : 1 })),
      bus: () => {
        const urls = managerPeersOf(this.health!.view()).map((p) => p.natsUrl);
        return { urls: urls.length ? urls : [this.busUrl], token: state.busToken };
      },
      dataKey: () => this.dataKey,
    });
    addDispatcherService(this.rpc, this.dispatcher);
    await this.rpc.listen(state.listenAddr, serverCredentials(this.identity, 'optional'));
    this.election = new LeaderElection(this.etcd.client());
    this.campaigning = this.campaign(signal);
    void this.observeLeader(signal).catch((e) => log.warn({ err: errorMessage(e) }, 'leader observer ended'));
    log.info({ nodeId: state.nodeId, listen: state.listenAddr, etcd: this.etcd.endpoints, nats: this.nats.url }, 'manager started');
  }

  /**
   * The certificate this manager's own processes present to its etcd member: issued by the
   * cluster CA at each start and kept in memory only, valid while the root is (the etcd3
   * client cannot swap certificates; the node certificate on disk renews far more often).
   */
  private async etcdClientTls(): Promise<EtcdClientTls> {
    const s = this.opts.state;
    const expiryMs = Math.max(3600_000, this.rootCA.notAfter.getTime() - Date.now() - 60_000);
    // The advertised address as its SAN: etcd checks a peer's certificate against the address it calls from (health probes).
    const c = await this.rootCA.issueCredentials({ nodeId: s.nodeId, role: 'manager', clusterId: s.clusterId, addr: s.advertiseAddr, expiryMs });
    return { ca: c.caPem, cert: c.certPem, key: c.keyPem, serverName: ROLE_OU.manager };
  }

  /** Wait until this manager's etcd member votes (a learner is promoted by the leader once it caught up). */
  private async untilVoter(signal: AbortSignal): Promise<void> {
    const until = Date.now() + PROMOTION_WAIT_MS;
    for (;;) {
      const me = (await this.health!.refresh().catch(() => this.health!.view())).members.find((m) => m.name === this.nodeId);
      if (me && !me.learner) return;
      if (Date.now() > until) throw unavailable(`this manager's etcd member was not promoted to a voter within ${PROMOTION_WAIT_MS / 1000} s; is the leader reachable?`);
      await sleep(200, undefined, { signal });
    }
  }

  /** The Raft group as this manager sees it. */
  raftView(): RaftView {
    return this.health?.view() ?? { members: [], leader: '' };
  }

  /**
   * A manager node's live status: Leader is the swarm leader (the election's, which runs the
   * orchestrators); Reachability needs both its etcd member to answer and its daemon to beat.
   */
  managerStatus(node: Node): ManagerStatus | undefined {
    const view = this.raftView();
    const m = view.members.find((x) => x.name === node.ID);
    // A manager node without a member (still joining, or its member was dropped) cannot be reached as one.
    if (!m) return { Leader: false, Reachability: 'unreachable', Addr: node.ManagerStatus?.Addr ?? '' };
    const peer = managerPeersOf(view, { reachableOnly: false }).find((p) => p.nodeId === node.ID);
    const up = m.reachable && !m.learner && node.Status?.State !== 'down';
    return { Leader: this.swarmLeader === node.ID, Reachability: up ? 'reachable' : 'unreachable', Addr: node.ManagerStatus?.Addr || peer?.grpc || '' };
  }

  /** Follow who leads the swarm (the election's current winner). */
  private async observeLeader(signal: AbortSignal): Promise<void> {
    for await (const leader of this.election!.observe(signal)) this.swarmLeader = leader ?? '';
  }

  /** While this manager cannot reach a quorum: the warning its answers carry. */
  readWarning(): string | undefined {
    if (!this.health?.serializableReads()) return undefined;
    const v = this.raftView();
    return `the swarm has no quorum (${reachableVoters(v)} of ${voters(v).length} managers reachable): this answer comes from this manager's own copy of the cluster state and may be stale`;
  }

  /** Refuse a demotion or removal that would cost the managers their quorum. */
  checkRemoval(nodeId: string, verb: string): void {
    const refusal = removalRefusal(this.raftView(), nodeId, verb);
    if (refusal) throw precondition(refusal);
  }

  /**
   * Leave the managers' Raft group before this node leaves the swarm: remove its etcd member
   * (refused when that would cost the others their quorum, unless forced) and its Node record.
   */
  async leaveRaft(force: boolean): Promise<void> {
    const view = this.raftView();
    const others = view.members.filter((m) => m.name !== this.nodeId && !m.learner);
    if (others.length === 0) return;
    const refusal = removalRefusal(view, this.nodeId, 'leave the swarm');
    if (refusal && !force) throw precondition(`${refusal}. Use --force to leave anyway`);
    const me = view.members.find((m) => m.name === this.nodeId);
    try {
      const { removeMember } = await import('./etcd');
      // Through another member's view is not needed: our member forwards the change to the leader.
      if (me) await removeMember(this.etcdClient!, me.id, { waitMs: 5000 });
    } catch (e) {
      if (!force) throw e;
      log.warn({ err: errorMessage(e) }, 'could not remove this manager from the raft group; leaving anyway');
    }
  }

  /** The first manager writes the cluster object and its own node. */
  private async bootstrap(b: NonNullable<ManagerOptions['bootstrap']>): Promise<void> {
    const s = this.opts.state;
    const now = new Date().toISOString();
    const cluster: Swarm = {
      ID: s.clusterId,
      CreatedAt: now,
      UpdatedAt: now,
      Spec: b.spec,
      TLSInfo: { TrustRoot: this.rootCA.certPem },
      RootRotationInProgress: false,
      DataPathPort: 4789,
      DefaultAddrPool: b.addressPools.DefaultAddrPool,
      SubnetSize: b.addressPools.SubnetSize,
      JoinTokens: apiTokens(newJoinTokens(this.rootCA.digest)),
    };
    await this.store.create('cluster', cluster as never);
    const node: Node = {
      ID: s.nodeId,
      CreatedAt: now,
      UpdatedAt: now,
      Spec: { Role: 'manager', Availability: b.availability, Labels: {} },
      Description: b.description,
      Status: { State: 'ready', Addr: s.advertiseAddr },
      ManagerStatus: { Leader: true, Reachability: 'reachable', Addr: `${s.advertiseAddr}:${s.ports!.grpc}` },
    };
    await this.store.create('nodes', node as never);
    // Docker's routing-mesh network, made with the swarm (a user may remove it and make another).
    await createNetwork({ store: this.store, newId: newSwarmId, now: () => new Date(), hostRoutes }, { Name: 'ingress', Labels: {}, DriverConfiguration: { Name: 'overlay' }, Ingress: true, IPAMOptions: { Driver: { Name: 'default' } }, Scope: 'swarm' });
  }

  async cluster(): Promise<Swarm> {
    const c = await this.store.get<Swarm & { ID: string }>('cluster', this.clusterId);
    if (!c) throw unavailable('the cluster object is missing from the store');
    return c;
  }

  async joinTokens(): Promise<JoinTokens> {
    const t = (await this.cluster()).JoinTokens;
    return { worker: t?.Worker ?? '', manager: t?.Manager ?? '' };
  }

  /** Rotate the worker and/or manager join token (swarm update --rotate-*-token). */
  rotateTokens(c: Swarm, worker: boolean, manager: boolean): Swarm['JoinTokens'] {
    let t: JoinTokens = { worker: c.JoinTokens!.Worker!, manager: c.JoinTokens!.Manager! };
    if (worker) t = rotateJoinToken(t, 'worker', this.rootCA.digest);
    if (manager) t = rotateJoinToken(t, 'manager', this.rootCA.digest);
    return apiTokens(t);
  }

  /** A node passed the join token: record it (it becomes ready when its agent opens a session). */
  private async registerNode(id: string, role: 'manager' | 'worker', info: NodeJoinInfo): Promise<void> {
    const now = new Date().toISOString();
    const existing = await this.store.get<Node & { ID: string }>('nodes', id);
    const host = info.addr.includes(':') ? info.addr.slice(0, info.addr.lastIndexOf(':')) : info.addr;
    const node: Node = {
      ...existing,
      ID: id,
      CreatedAt: existing?.CreatedAt ?? now,
      UpdatedAt: now,
      Spec: existing?.Spec ?? { Role: role, Availability: 'active', Labels: {} },
      Description: (info.description as NodeDescription) ?? existing?.Description ?? {},
      Status: { State: 'unknown', Addr: host || info.remote },
    };
    if (existing) await this.store.update('nodes', node as never, { force: true });
    else await this.store.create('nodes', node as never);
    log.info({ nodeId: id, role, addr: node.Status?.Addr }, 'node joined');
  }

  private async campaign(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let leadership;
      try {
        leadership = await this.election!.campaign(this.nodeId, signal);
      } catch (e) {
        if (signal.aborted) return;
        log.warn({ err: errorMessage(e) }, 'campaign failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      this.leading = true;
      log.info({ nodeId: this.nodeId }, 'leading the cluster');
      const lead = AbortSignal.any([signal, leadership.signal]);
      await this.dispatcher!.start(lead).catch((e) => log.error({ err: errorMessage(e) }, 'dispatcher failed to start'));
      const loops = new LeaderComponents({ store: this.store });
      await loops.start(lead).catch((e) => log.error({ err: errorMessage(e) }, 'leader components failed to start'));
      void new RaftReconciler({ store: this.store, etcd: this.etcdClient!, health: this.health! }).run(lead);
      await new Promise<void>((r) => (lead.aborted ? r() : lead.addEventListener('abort', () => r(), { once: true })));
      this.leading = false;
      await loops.stop().catch(() => undefined);
      await this.dispatcher!.stop().catch(() => undefined);
      log.info({ reason: leadership.reason }, 'no longer leading');
      if (!signal.aborted) await leadership.resign().catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.election?.resign().catch(() => undefined);
    await this.campaigning?.catch(() => undefined);
    await this.rpc?.stop(500).catch(() => undefined);
    await this.bus?.close().catch(() => undefined);
    await this.store?.close().catch(() => undefined);
    this.etcdClient?.close();
    await Promise.all([this.nats.stop().catch(() => undefined), this.etcd.stop().catch(() => undefined)]);
    log.info('manager stopped');
  }
}
