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
import { ROLE_OU, certPaths, RpcServer, TlsIdentity, clientCredentials, serverCredentials, loadNodeCredentials, addNodeCAService, addDispatcherService, addRaftMembershipService } from '../shared/rpc';
import { Dispatcher } from './dispatcher';
import { LeaderComponents } from './leader';
import type { ManagerStatus, Node, NodeAvailability, NodeDescription, Swarm, SwarmSpec } from '../shared/swarm';
import { EtcdMember, compileEtcdConfig, type EtcdClientTls } from './etcd';
import { NatsServer, compileNatsConfig } from './nats';
import { EtcdStore } from './store';
import { LeaderElection } from './election';
import { RootCA, NodeCAService, newJoinTokens, rotateJoinToken, newSwarmId, ensureClusterCA, initialClusterCA, joinTokenDigest, syncDiskCA, type CACluster, type JoinTokens, type NodeJoinInfo } from './ca';
import { swarmDir, type SwarmState } from './membership/state';
import { createDataKey, loadDataKey, type DataKey } from './secrets';
import { promises as fs, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../shared/fsutil';
import { RaftHealth, type PeerTls, RaftJoinService, RaftReconciler, managerPeersOf, reachableVoters, removalRefusal, voters, type RaftView } from './raft';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3 } from 'etcd3';
import { liveDir } from '../shared/keys';
import { AutolockFollower, resealKeyFiles, sealUnlockKey, unlockKeyOf } from './autolock';

const log = logger('manager');

/** The CA's tokens in the API's spelling. */
const apiTokens = (t: JoinTokens): NonNullable<Swarm['JoinTokens']> => ({ Worker: t.worker, Manager: t.manager });

export interface ManagerOptions {
  dataRoot: string;
  state: SwarmState;
  /** Set on `swarm init` only: the cluster object to create. */
  bootstrap?: { spec: SwarmSpec; availability: NodeAvailability; description: NodeDescription; addressPools: AddressPools; unlockKey?: DataKey };
  /** Set when joining as a manager: the etcd group to join (from RaftMembership.Join). */
  join?: { initialCluster: Record<string, string> };
  /** swarm init --force-new-cluster: this start makes the etcd group this member alone, keeping its data. */
  forceNewCluster?: boolean;
}

/** How long a joining manager waits for its etcd learner to become a voter. */
const PROMOTION_WAIT_MS = 60_000;

export const caDir = (dataRoot: string) => join(swarmDir(dataRoot), 'ca');
/** Where a manager keeps its etcd member's loopback certificate: re-minted at each start, so kept in RAM only. */
const localEtcdTls = (dataRoot: string) => join(liveDir(swarmDir(dataRoot)), 'etcd-tls');


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
        // it mutual TLS; peers with the node's certificate (renewed in place; etcd re-reads
        // it per handshake), the loopback side with one minted at each start (etcdClientTls).
        clientUrls: [`https://127.0.0.1:${ports.etcdClient}`],
        peerUrl: `https://${s.advertiseAddr}:${ports.etcdPeer}`,
        tls: {
          client: { certFile: join(localEtcdTls(opts.dataRoot), 'local.crt'), keyFile: join(localEtcdTls(opts.dataRoot), 'local.key'), caFile: join(localEtcdTls(opts.dataRoot), 'ca.crt') },
          peer: { certFile: nodeCerts.cert, keyFile: nodeCerts.key, caFile: nodeCerts.ca },
        },
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

  /** Set while this manager leads with its orchestrators, allocator and scheduler started. */
  private componentsUp = false;

  /** Whether this manager leads and dispatches, and `nodeId` has a session with it: work given now is scheduled at once. */
  serving(nodeId: string): boolean {
    return this.componentsUp && !!this.dispatcher?.sessionNodes().includes(nodeId);
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
    this.health = new RaftHealth({ client: this.etcdClient, self: state.nodeId, tls: () => this.nodePeerTls() });
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
    // Under autolock this manager's key files follow the cluster's unlock key.
    void new AutolockFollower({
      store: this.store,
      clusterId: state.clusterId,
      stateDir: swarmDir(dataRoot),
      dataKey: () => this.dataKey,
      reseal: (kek) => resealKeyFiles({ stateDir: swarmDir(dataRoot), caDir: caDir(dataRoot), dataKey: this.dataKey, rootCA: this.rootCA }, kek),
      log: log.child({ part: 'autolock' }),
    }).run(signal);
    if (this.opts.bootstrap) await this.bootstrap(this.opts.bootstrap);
    else {
      // A cluster made before the CA moved to the store gets it now; this manager's disk copy follows the cluster's root.
      await ensureClusterCA(this.store, state.clusterId, this.rootCA, this.dataKey).catch((e) => log.warn({ err: errorMessage(e) }, 'cannot move the root CA into the store yet'));
      this.rootCA = await syncDiskCA(await this.cluster(), () => this.dataKey, caDir(dataRoot), this.rootCA).catch((e) => {
        log.warn({ err: errorMessage(e) }, "cannot bring this manager's copy of the root CA up to date");
        return this.rootCA;
      });
    }
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
        unlockKey: async () => (this.dataKey ? unlockKeyOf(await this.cluster(), this.dataKey)?.key : undefined),
        busToken: state.busToken ?? '',
        managers: async (except) => {
          const peers = managerPeersOf(this.health!.view(), { reachableOnly: false }).filter((p) => p.nodeId !== except);
          return { grpc: peers.map((p) => p.grpc), natsRoutes: peers.map((p) => p.natsRoute) };
        },
      }),
    );
    // Every manager serves the dispatcher; only the leader's is started, the others pass worker
    // calls on to it with this manager's own certificate.
    this.dispatcher = new Dispatcher({
      store: this.store,
      clusterId: state.clusterId,
      forward: { leader: () => this.leaderDispatcher(), self: state.nodeId, credentials: clientCredentials(this.identity, { clusterId: state.clusterId }), signal },
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
   * The loopback side of this manager's etcd member: a certificate issued by the root this
   * manager holds at each start, valid while the root is, which the member serves and its
   * local clients present. Neither the etcd3 client (fixed credentials) nor etcd (its CA file
   * read once) can follow a renewal or a root rotation, so this side never depends on them;
   * the peer side uses the node certificate, and the member restarts when trust changes.
   */
  private async etcdClientTls(): Promise<EtcdClientTls> {
    const s = this.opts.state;
    const expiryMs = Math.max(3600_000, this.rootCA.notAfter.getTime() - Date.now() - 60_000);
    const c = await this.rootCA.issueCredentials({ nodeId: s.nodeId, role: 'manager', clusterId: s.clusterId, addr: '127.0.0.1', expiryMs });
    const dir = localEtcdTls(this.opts.dataRoot);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    // Before it moved to RAM it was kept here: a manager certificate has no business at rest.
    await fs.rm(join(swarmDir(this.opts.dataRoot), 'etcd-tls'), { recursive: true, force: true });
    await writeFileAtomic(join(dir, 'local.key'), c.keyPem, 0o600);
    await writeFileAtomic(join(dir, 'local.crt'), c.certPem, 0o644);
    await writeFileAtomic(join(dir, 'ca.crt'), this.rootCA.certPem, 0o644);
    return { ca: this.rootCA.certPem, cert: c.certPem, key: c.keyPem, serverName: ROLE_OU.manager };
  }

  /** The node certificate files, read now (they renew): what peer probes present. */
  private nodePeerTls(): PeerTls {
    const p = certPaths(swarmDir(this.opts.dataRoot));
    return { ca: readFileSync(p.ca, 'utf8'), cert: readFileSync(p.cert, 'utf8'), key: readFileSync(p.key, 'utf8') };
  }

  /**
   * The node now trusts another root (a rotation reached it): etcd reads its peer CA file only
   * at start, so the member restarts (the group keeps its quorum; a lone manager's store is
   * away for a moment). Resolves when the member answers again.
   */
  async trustChanged(): Promise<void> {
    if (!this.etcd.supervisor.signal('SIGTERM')) return;
    log.info('the trusted root changed: restarting the etcd member');
    const until = Date.now() + 60_000;
    await sleep(300);
    while (Date.now() < until) {
      if (await this.etcd.status().then(() => true, () => false)) return;
      await sleep(200);
    }
    log.warn('the etcd member did not answer within 60 s of its restart');
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

  /** The swarm leader's gRPC endpoint (its dispatcher), undefined while the leader or its address is unknown. */
  private leaderDispatcher(): { nodeId: string; addr: string } | undefined {
    const leader = this.swarmLeader;
    const peer = leader && this.health ? managerPeersOf(this.health.view(), { reachableOnly: false }).find((p) => p.nodeId === leader) : undefined;
    return peer ? { nodeId: leader, addr: peer.grpc } : undefined;
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
      Spec: { ...b.spec, EncryptionConfig: { AutoLockManagers: !!b.unlockKey } },
      ...(b.unlockKey ? { ManagerUnlockKey: sealUnlockKey(s.clusterId, b.unlockKey, this.dataKey!) } : {}),
      ...initialClusterCA(this.rootCA, this.dataKey!),
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
    const digest = joinTokenDigest(c as CACluster, this.rootCA);
    if (worker) t = rotateJoinToken(t, 'worker', digest);
    if (manager) t = rotateJoinToken(t, 'manager', digest);
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
      this.componentsUp = !lead.aborted;
      void new RaftReconciler({ store: this.store, etcd: this.etcdClient!, health: this.health! }).run(lead);
      await new Promise<void>((r) => (lead.aborted ? r() : lead.addEventListener('abort', () => r(), { once: true })));
      this.leading = false;
      this.componentsUp = false;
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
    await fs.rm(localEtcdTls(this.opts.dataRoot), { recursive: true, force: true }).catch(() => undefined);
    // The live directory itself goes when nothing else (an unlocked node key) is in it.
    await fs.rmdir(liveDir(swarmDir(this.opts.dataRoot))).catch(() => undefined);
    log.info('manager stopped');
  }
}
