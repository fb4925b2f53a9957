// A node's membership in a swarm: init, join, leave, and what it runs as a member (a manager,
// an agent, or both). One operation at a time; a failed init or join leaves no swarm state.
import { randomBytes } from 'node:crypto';
import { logger } from '../../shared/log';
import { ShoalError, invalid, errorMessage, precondition, unavailable } from '../../shared/errors';
import type { DataKey } from '../../shared/crypto/seal';
import { Mutex } from '../../shared/mutex';
import type { Node, NodeAvailability, Swarm, SwarmSpec } from '../../shared/swarm';
import { newSwarmId } from '../ca/ids';
import { validateCAConfig } from '../ca/config';
import { publicCluster } from '../ca/public';
import type { Manager } from '../manager';
import type { AddressPools } from '../networks/ipam';
import { joinHostPort } from '../etcd/urls';
import { DEFAULT_HEARTBEAT_PERIOD_MS } from '../dispatcher/config';
import { gatherNodeDescription } from '../../worker/agent/session/description';
import { DEFAULT_SWARM_PORT, parseAddr, resolveAdvertiseAddr } from './addrs';
import { loadSwarmState, saveSwarmState, removeSwarmState, forgetManagerState, portsFor, swarmDir, type SwarmState } from './state';
import { kekFor, newUnlockKey, opensWith, formatUnlockKey, parseUnlockKey, removeLiveDir, setKek, swarmLocked } from '../../shared/keys';
import { certPaths, nodeKeySealedWith } from '../../shared/rpc/certstore';

const log = logger('membership');

/** How long a promoted or demoted node keeps trying to take its new role. */
const ROLE_CHANGE_WAIT_MS = 120_000;

/** How long a restarted daemon waits for its manager before it serves the API anyway. */
const RESUME_WAIT_MS = 5000;

/** How long `swarm init` waits for the node to lead and run its own agent's session. */
const INIT_READY_WAIT_MS = 20_000;

/** How long `swarm unlock` waits for the manager it unlocked (docker's answer comes once the node runs, or after 20 s). */
const UNLOCK_WAIT_MS = 20_000;

export type Role = 'none' | 'worker' | 'manager';

/** What runs on every member to execute its tasks; started after init/join and at daemon start. */
export interface Agent {
  stop(): Promise<void>;
}

export interface MembershipOptions {
  dataRoot: string;
  nodeName: string;
  /** Start the node's agent (task execution, session with the managers). */
  startAgent?: (state: SwarmState, m: Membership) => Promise<Agent>;
  /** After leaving: remove what the swarm ran here (task containers). */
  afterLeave?: () => Promise<void>;
}

export interface InitRequest {
  ListenAddr?: string;
  AdvertiseAddr?: string;
  DataPathAddr?: string;
  DataPathPort?: number;
  DefaultAddrPool?: string[];
  ForceNewCluster?: boolean;
  SubnetSize?: number;
  Spec?: SwarmSpec;
  AutoLockManagers?: boolean;
  Availability?: NodeAvailability;
}

export interface JoinRequest {
  ListenAddr?: string;
  AdvertiseAddr?: string;
  DataPathAddr?: string;
  RemoteAddrs?: string[];
  JoinToken?: string;
  Availability?: NodeAvailability;
}

const ALREADY = 'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.';
export const NOT_IN_SWARM = 'This node is not part of a swarm';
export const NOT_A_MANAGER_NONE = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
export const NOT_A_MANAGER_WORKER = "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.";

/** Default heartbeat, the dispatcher's: short, so a dead node is noticed within the failover target (Docker's is 5 s). */
export const DEFAULT_HEARTBEAT_NS = DEFAULT_HEARTBEAT_PERIOD_MS * 1e6;

/** SwarmSpec with shoal's defaults filled in; bad values are refused, naming the field. */
export function swarmSpecWithDefaults(spec: SwarmSpec = {}): SwarmSpec {
  const nonNeg = (field: string, v: unknown) => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) throw invalid(`invalid swarm spec: ${field} must be a non-negative integer, got ${JSON.stringify(v)}`);
  };
  nonNeg('Dispatcher.HeartbeatPeriod', spec.Dispatcher?.HeartbeatPeriod);
  validateCAConfig(spec.CAConfig);
  const hist = spec.Orchestration?.TaskHistoryRetentionLimit;
  if (hist !== undefined && (typeof hist !== 'number' || !Number.isInteger(hist))) throw invalid(`invalid swarm spec: Orchestration.TaskHistoryRetentionLimit must be an integer, got ${JSON.stringify(hist)}`);
  return {
    ...spec,
    Name: spec.Name || 'default',
    Labels: spec.Labels ?? {},
    Orchestration: { TaskHistoryRetentionLimit: hist ?? 5 },
    // etcd runs Raft with its own timing; these are reported as swarmkit's defaults.
    Raft: { SnapshotInterval: spec.Raft?.SnapshotInterval || 10000, KeepOldSnapshots: spec.Raft?.KeepOldSnapshots ?? 0, LogEntriesForSlowFollowers: spec.Raft?.LogEntriesForSlowFollowers || 500, ElectionTick: spec.Raft?.ElectionTick || 10, HeartbeatTick: spec.Raft?.HeartbeatTick || 1 },
    Dispatcher: { HeartbeatPeriod: spec.Dispatcher?.HeartbeatPeriod || DEFAULT_HEARTBEAT_NS },
    CAConfig: { ...spec.CAConfig, NodeCertExpiry: spec.CAConfig?.NodeCertExpiry || 90 * 24 * 3600 * 1e9 },
    TaskDefaults: spec.TaskDefaults ?? {},
    EncryptionConfig: { AutoLockManagers: spec.EncryptionConfig?.AutoLockManagers === true },
  };
}

export class Membership {
  private state?: SwarmState;
  private manager_?: Manager;
  private agent?: Agent;
  private readonly lock = new Mutex();

  constructor(readonly opts: MembershipOptions) {}

  role(): Role {
    return this.state?.role ?? 'none';
  }

  get nodeId(): string | undefined {
    return this.state?.nodeId;
  }

  get swarmState(): SwarmState | undefined {
    return this.state;
  }

  /**
   * Set while this manager's keys are sealed and no unlock key was given since the daemon
   * started (autolock): nothing of the swarm runs here until `swarm unlock`.
   */
  private locked = false;

  /** The running manager, or the error dockerd gives on a node that is not one. */
  manager(): Manager {
    if (this.manager_) return this.manager_;
    if (this.locked) throw swarmLocked();
    if (this.resuming) throw new ShoalError('UNAVAILABLE', `This node is a swarm manager that is still starting: its store waits for a quorum of managers to be online${this.lastError ? ` (${this.lastError})` : ''}`);
    throw new ShoalError('UNAVAILABLE', this.state ? NOT_A_MANAGER_WORKER : NOT_A_MANAGER_NONE);
  }

  /**
   * The node's certificate now names `role`: a promotion or demotion reached this node (the
   * managers decide; the renewal carries it). A promoted worker joins the managers' Raft group
   * and starts a manager; a demoted manager hands its vote back and stops its manager. The
   * agent runs on either way, so the node's tasks are untouched.
   */
  async certifiedRole(role: Role): Promise<void> {
    // Managers join the Raft group one at a time (etcd takes one learner at a time): try again
    // for a while when another node's join is under way or a manager is briefly out of reach.
    const until = Date.now() + ROLE_CHANGE_WAIT_MS;
    // The newest certificate wins: a demotion that arrives while the promotion is still starting
    // its manager stops that start (and the promotion's retries) rather than waiting it out.
    this.wantedRole = role;
    if (role !== 'manager') await this.promoting?.stop().catch(() => undefined);
    for (let attempt = 0; ; attempt++) {
      const done = await this.lock.run(async () => {
        const s = this.state;
        if (!s || role === 'none' || s.role === role || this.wantedRole !== role) return true;
        try {
          if (role === 'manager') await this.becomeManager(s);
          else await this.becomeWorker(s);
          this.lastError = '';
          log.info({ role }, role === 'manager' ? 'promoted: this node is now a manager' : 'demoted: this node is now a worker');
          return true;
        } catch (e) {
          this.lastError = `cannot become a ${role}: ${errorMessage(e)}`;
          log.warn({ err: errorMessage(e), attempt }, `cannot become a ${role} yet`);
          return false;
        }
      });
      if (done || Date.now() > until) return;
      await new Promise((r) => setTimeout(r, 1000 + Math.random() * 1000));
    }
  }

  /** The role the node's newest certificate names. */
  private wantedRole?: Role;
  /** The manager a promotion is starting (stopped if a demotion overtakes it). */
  private promoting?: Manager;

  /** A rotation reached this node: what read the old root once (etcd) reads the new one. */
  async trustChanged(): Promise<void> {
    await this.manager_?.trustChanged();
  }

  private async becomeManager(s: SwarmState): Promise<void> {
    const [{ loadNodeCredentials }, { joinRaftGroup }, { Manager }] = await Promise.all([import('../../shared/rpc'), import('./raft-join'), import('../manager')]);
    const creds = await loadNodeCredentials(swarmDir(this.opts.dataRoot));
    if (!creds) throw unavailable('no node certificate to join the managers with');
    const grpcPort = parseAddr('listen address', s.listenAddr, { host: '0.0.0.0', port: DEFAULT_SWARM_PORT }).port;
    let lastErr: unknown;
    for (const remoteAddr of s.managers) {
      let j;
      try {
        j = await joinRaftGroup({ remoteAddr, credentials: creds, clusterId: s.clusterId, advertiseHost: s.advertiseAddr, grpcPort, dataRoot: this.opts.dataRoot });
      } catch (e) {
        lastErr = e;
        continue;
      }
      const next: SwarmState = { ...s, role: 'manager', ports: portsFor(grpcPort), busToken: j.busToken, natsRoutes: j.natsRoutes, managers: [...new Set([joinHostPort(s.advertiseAddr, grpcPort), ...j.managers, ...s.managers])] };
      const m = new Manager({ dataRoot: this.opts.dataRoot, state: next, join: { initialCluster: j.initialCluster } });
      this.promoting = m;
      try {
        await m.start();
      } catch (e) {
        await this.keysInTheClear().catch((err) => log.warn({ err: errorMessage(err) }, 'cannot put the node key back in the clear'));
        throw e;
      } finally {
        this.promoting = undefined;
      }
      await saveSwarmState(this.opts.dataRoot, next);
      this.state = next;
      this.manager_ = m;
      return;
    }
    throw lastErr ?? unavailable('no manager to join the raft group through');
  }

  /** Workers are never locked: the node key goes back in the clear (demoted, or a promotion that failed). */
  private async keysInTheClear(): Promise<void> {
    const dir = swarmDir(this.opts.dataRoot);
    if (!kekFor(dir)) return;
    const { resealNodeKey } = await import('../autolock');
    await resealNodeKey(dir, undefined);
    await removeLiveDir(dir);
  }

  private async becomeWorker(s: SwarmState): Promise<void> {
    const m = this.manager_;
    const others = m ? (await import('../raft')).managerPeersOf(m.raftView(), { reachableOnly: false }).filter((p) => p.nodeId !== s.nodeId).map((p) => p.grpc) : [];
    if (m) {
      // The managers checked quorum when they accepted the demotion; the vote goes now.
      await m.leaveRaft(true);
      this.manager_ = undefined;
      await m.stop();
    }
    await forgetManagerState(this.opts.dataRoot);
    await this.keysInTheClear();
    const next: SwarmState = { ...s, role: 'worker', managers: others.length ? others : s.managers.filter((a) => a !== joinHostPort(s.advertiseAddr, s.ports?.grpc ?? DEFAULT_SWARM_PORT)) };
    delete next.ports;
    delete next.busToken;
    delete next.natsRoutes;
    await saveSwarmState(this.opts.dataRoot, next);
    this.state = next;
  }

  /** At daemon start: rejoin the swarm this node was part of. */
  async open(): Promise<void> {
    await this.lock.run(async () => {
      const s = await loadSwarmState(this.opts.dataRoot);
      if (!s) return;
      this.state = s;
      if (s.role === 'manager' && (await this.sealedWithoutKey())) {
        // Autolock: a restarted manager waits for `swarm unlock`. Plaintext copies left by a
        // daemon that was killed go now, so that nothing unlocked outlives it.
        await removeLiveDir(swarmDir(this.opts.dataRoot));
        this.locked = true;
        log.warn('this manager is locked: run "docker swarm unlock" with the swarm\'s unlock key');
        return;
      }
      try {
        await this.startMember(s, undefined, undefined, RESUME_WAIT_MS);
      } catch (e) {
        // Keep the state: a later restart may succeed; the error shows in /info.
        log.error({ err: errorMessage(e) }, 'cannot resume swarm membership');
        this.lastError = errorMessage(e);
      }
    });
  }

  /** Whether the node key is sealed and this process was not given the key that opens it. */
  private async sealedWithoutKey(): Promise<boolean> {
    const dir = swarmDir(this.opts.dataRoot);
    return !kekFor(dir) && (await nodeKeySealedWith(dir)) !== undefined;
  }

  /** POST /swarm/unlock: open this manager's keys with the unlock key and start what it runs. */
  async unlock(key: unknown): Promise<void> {
    await this.lock.run(async () => {
      const s = this.state;
      if (!s) throw new ShoalError('UNAVAILABLE', NOT_IN_SWARM);
      if (!this.locked) throw precondition('swarm is not locked');
      const kek = parseUnlockKey(key);
      const dir = swarmDir(this.opts.dataRoot);
      if (!(await opensWith(certPaths(dir).key, kek))) throw invalid('swarm could not be unlocked: invalid key provided');
      setKek(dir, kek);
      // Opening the node key puts back the plaintext copy etcd and nats-server read.
      const { loadNodeCredentials } = await import('../../shared/rpc');
      await loadNodeCredentials(dir);
      this.locked = false;
      log.info('unlocked');
      try {
        await this.startMember(s, undefined, undefined, UNLOCK_WAIT_MS);
      } catch (e) {
        log.error({ err: errorMessage(e) }, 'cannot resume swarm membership after unlock');
        this.lastError = errorMessage(e);
      }
    });
  }

  /** GET /swarm/unlockkey: the swarm's unlock key as users type it ('' while autolock is off). */
  async unlockKey(): Promise<string> {
    const m = this.manager();
    const { unlockKeyOf } = await import('../autolock');
    const { requireDataKey } = await import('../secrets');
    const k = unlockKeyOf(await m.cluster(), requireDataKey(m.dataKey));
    return k ? formatUnlockKey(k) : '';
  }

  lastError = '';
  /** Set while a manager restarted with the daemon waits for its store (see resumeManager). */
  private resuming?: AbortController;
  /** The manager being started by resumeManager, stopped (and awaited) by close(). */
  private starting?: Manager;

  private async startMember(s: SwarmState, bootstrap?: { spec: SwarmSpec; availability: NodeAvailability; addressPools: AddressPools; unlockKey?: DataKey }, join?: { initialCluster: Record<string, string> }, resumeWaitMs?: number): Promise<void> {
    if (s.role === 'manager' && resumeWaitMs !== undefined) {
      // After a restart, etcd serves nobody until a quorum of members is back, which may need
      // this very daemon's peers to start too: after a short wait the daemon answers
      // meanwhile, and says why.
      const up = this.resumeManager(s);
      await Promise.race([up, new Promise((r) => setTimeout(r, resumeWaitMs).unref())]);
    } else if (s.role === 'manager') {
      // The manager's modules (etcd, gRPC, NATS, X.509) load only on a manager: a plain engine stays small.
      const { Manager } = await import('../manager');
      const m = new Manager({
        dataRoot: this.opts.dataRoot,
        state: s,
        bootstrap: bootstrap && { ...bootstrap, description: gatherNodeDescription({ hostname: this.opts.nodeName }) },
        join,
      });
      await m.start();
      this.manager_ = m;
      // This node's agent may find any manager, not only the ones it knew when it joined.
      await this.rememberManagers(s, m);
    }
    if (this.opts.startAgent) this.agent = await this.opts.startAgent(s, this);
    this.lastError = '';
  }

  /**
   * After swarm init, as docker's init does: answer once the node is really ready (it leads,
   * its orchestrators run and its own agent has a session), so a service created right after
   * is scheduled at once. After INIT_READY_WAIT_MS the answer comes anyway; the rest follows.
   */
  private async untilServing(nodeId: string): Promise<void> {
    const until = Date.now() + INIT_READY_WAIT_MS;
    while (!this.manager_?.serving(nodeId) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    if (!this.manager_?.serving(nodeId)) log.warn(`the new swarm was not ready within ${INIT_READY_WAIT_MS / 1000} s; it goes on starting`);
  }

  /** Start the manager of a restarted daemon in the background, again until it comes up or the daemon stops. */
  private resumeManager(s: SwarmState): Promise<void> {
    const ac = new AbortController();
    this.resuming = ac;
    return (async () => {
      const { Manager } = await import('../manager');
      while (!ac.signal.aborted) {
        const m = new Manager({ dataRoot: this.opts.dataRoot, state: s });
        this.starting = m;
        try {
          await m.start();
          this.starting = undefined;
          if (ac.signal.aborted) {
            await m.stop().catch(() => undefined);
            return;
          }
          this.manager_ = m;
          this.resuming = undefined;
          this.lastError = '';
          await this.rememberManagers(s, m).catch((e) => log.warn({ err: errorMessage(e) }, 'cannot save the managers list'));
          log.info('manager resumed');
          return;
        } catch (e) {
          this.starting = undefined;
          if (ac.signal.aborted) return;
          this.lastError = errorMessage(e);
          log.warn({ err: this.lastError }, 'manager not started yet; trying again');
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    })();
  }

  /**
   * The managers the agent's sessions name (the leader first): saved, so that a restarted node
   * finds one even after every manager it joined through has gone. Managers keep their own.
   */
  async managersSeen(addrs: string[]): Promise<void> {
    // Under the lock: never after a leave removed the state, never across a role change.
    await this.lock.run(async () => {
      const s = this.state;
      if (!s || !addrs.length) return;
      await this.saveManagers(s, s.role === 'manager' ? [...new Set([...s.managers, ...addrs])] : addrs).catch((e) => log.warn({ err: errorMessage(e) }, 'cannot save the managers list'));
    });
  }

  /** Keep every manager the Raft group knows in the state, so this node's agent finds one after a restart. */
  private async rememberManagers(s: SwarmState, m: Manager): Promise<void> {
    const { managerPeersOf } = await import('../raft');
    await this.saveManagers(s, [...new Set([...managerPeersOf(m.raftView(), { reachableOnly: false }).map((p) => p.grpc), ...s.managers])]);
  }

  /** The state's managers list, saved when it changed. */
  private async saveManagers(s: SwarmState, managers: string[]): Promise<void> {
    if (managers.join() === s.managers.join()) return;
    s.managers = managers;
    await saveSwarmState(this.opts.dataRoot, s);
  }

  async init(req: InitRequest): Promise<string> {
    return this.lock.run(async () => {
      if (this.state && this.locked) throw swarmLocked();
      if (this.state && req.ForceNewCluster && this.state.role === 'manager') return this.forceNewCluster(this.state);
      if (this.state) throw new ShoalError('UNAVAILABLE', ALREADY);
      const autolock = req.AutoLockManagers === true || req.Spec?.EncryptionConfig?.AutoLockManagers === true;
      const availability = checkAvailability(req.Availability);
      const listen = parseAddr('listen address', req.ListenAddr, { host: '0.0.0.0', port: DEFAULT_SWARM_PORT });
      const advertise = await resolveAdvertiseAddr(req.AdvertiseAddr, listen);
      const spec = swarmSpecWithDefaults({ ...req.Spec, EncryptionConfig: { AutoLockManagers: autolock } });
      const { swarmAddressPools } = await import('../networks/ipam');
      const pools = swarmAddressPools(req.DefaultAddrPool, req.SubnetSize);
      const nodeId = newSwarmId();
      const state: SwarmState = {
        nodeId,
        clusterId: newSwarmId(),
        role: 'manager',
        listenAddr: joinHostPort(listen.host, listen.port),
        advertiseAddr: advertise.host,
        managers: [joinHostPort(advertise.host, listen.port)],
        ports: portsFor(listen.port),
        busToken: randomBytes(24).toString('base64url'),
        createdAt: new Date().toISOString(),
      };
      // Under autolock every key file is sealed from its first write.
      const unlockKey = autolock ? newUnlockKey() : undefined;
      setKek(swarmDir(this.opts.dataRoot), unlockKey);
      try {
        const [{ RootCA }, { caDir }, { saveNodeCredentials }] = await Promise.all([import('../ca'), import('../manager'), import('../../shared/rpc')]);
        const ca = await RootCA.generate();
        await ca.save(caDir(this.opts.dataRoot));
        await saveNodeCredentials(swarmDir(this.opts.dataRoot), await ca.issueCredentials({ nodeId, role: 'manager', clusterId: state.clusterId, addr: advertise.host, expiryMs: spec.CAConfig!.NodeCertExpiry! / 1e6 }));
        await saveSwarmState(this.opts.dataRoot, state);
        this.state = state;
        await this.startMember(state, { spec, availability, addressPools: { DefaultAddrPool: pools.map((p) => p.range), SubnetSize: pools[0].prefix }, unlockKey });
      } catch (e) {
        await this.teardown();
        throw e;
      }
      await this.untilServing(nodeId);
      log.info({ nodeId, advertise: advertise.host, listen: state.listenAddr }, 'swarm initialized');
      return nodeId;
    });
  }

  /**
   * swarm init --force-new-cluster on a manager whose peers are gone for good: its etcd member
   * restarts as a group of one on the data it has, so the swarm's state, services and tasks
   * carry on. Other managers stay listed (unreachable) until they are demoted and removed.
   */
  private async forceNewCluster(s: SwarmState): Promise<string> {
    const { Manager } = await import('../manager');
    this.resuming?.abort();
    this.resuming = undefined;
    await this.starting?.stop().catch(() => undefined);
    const old = this.manager_;
    this.manager_ = undefined;
    await old?.stop();
    const m = new Manager({ dataRoot: this.opts.dataRoot, state: s, forceNewCluster: true });
    await m.start();
    this.manager_ = m;
    this.lastError = '';
    log.warn({ nodeId: s.nodeId }, 'forced a new cluster: this manager is now the only member of the raft group');
    return s.nodeId;
  }

  async join(req: JoinRequest): Promise<void> {
    await this.lock.run(async () => {
      if (this.state) throw new ShoalError('UNAVAILABLE', ALREADY);
      const remotes = req.RemoteAddrs ?? [];
      if (!remotes.length) throw invalid('at least 1 RemoteAddr is required to join');
      if (!req.JoinToken) throw invalid('a join token is required to join a swarm');
      const listen = parseAddr('listen address', req.ListenAddr, { host: '0.0.0.0', port: DEFAULT_SWARM_PORT });
      const advertise = await resolveAdvertiseAddr(req.AdvertiseAddr, listen);
      const remoteAddrs = remotes.map((r) => parseAddr('remote address', r, { host: '', port: DEFAULT_SWARM_PORT })).map((a) => joinHostPort(a.host, a.port));
      let lastErr: unknown;
      const { enroll } = await import('../../worker/agent/enroll');
      for (const remoteAddr of remoteAddrs) {
        let r;
        try {
          r = await enroll({ remoteAddr, token: req.JoinToken, advertiseAddr: advertise.host, stateDir: swarmDir(this.opts.dataRoot), description: gatherNodeDescription({ hostname: this.opts.nodeName }), timeoutMs: 15_000 });
        } catch (e) {
          lastErr = e;
          // A refusal is final; an unreachable manager is worth trying the next one.
          if (!(e instanceof ShoalError) || e.code !== 'UNAVAILABLE') break;
          continue;
        }
        // Enrolled: from here on a failure undoes the join rather than trying another manager.
        const state: SwarmState = { nodeId: r.nodeId, clusterId: r.clusterId, role: r.role, listenAddr: joinHostPort(listen.host, listen.port), advertiseAddr: advertise.host, managers: remoteAddrs, createdAt: new Date().toISOString() };
        try {
          let raft: { initialCluster: Record<string, string> } | undefined;
          if (r.role === 'manager') {
            const { joinRaftGroup } = await import('./raft-join');
            const j = await joinRaftGroup({ remoteAddr, credentials: r.credentials, clusterId: r.clusterId, advertiseHost: advertise.host, grpcPort: listen.port, dataRoot: this.opts.dataRoot });
            Object.assign(state, { ports: portsFor(listen.port), busToken: j.busToken, natsRoutes: j.natsRoutes, managers: [...new Set([joinHostPort(advertise.host, listen.port), ...j.managers, ...remoteAddrs])] });
            raft = { initialCluster: j.initialCluster };
          }
          await saveSwarmState(this.opts.dataRoot, state);
          this.state = state;
          await this.startMember(state, undefined, raft);
        } catch (e) {
          await this.teardown();
          throw e;
        }
        log.info({ nodeId: r.nodeId, role: r.role, manager: remoteAddr }, 'joined the swarm');
        return;
      }
      await removeSwarmState(this.opts.dataRoot).catch(() => undefined);
      throw lastErr;
    });
  }

  async leave(force: boolean): Promise<void> {
    await this.lock.run(async () => {
      if (!this.state) throw new ShoalError('UNAVAILABLE', NOT_IN_SWARM);
      if (this.locked && !force) throw new ShoalError('UNAVAILABLE', 'Swarm is encrypted and locked. Please unlock it first or use `--force` to ignore this message.');
      if (this.state.role === 'manager' && !force) {
        throw new ShoalError('UNAVAILABLE', 'You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message.');
      }
      // A manager among others takes its vote with it, so the rest keep a quorum they can count on.
      await this.manager_?.leaveRaft(force);
      await this.teardown();
      await this.opts.afterLeave?.().catch((e) => log.warn({ err: errorMessage(e) }, 'cleaning up after leave failed'));
      log.info('left the swarm');
    });
  }

  /** Stop what membership runs and forget the swarm. */
  private async teardown(): Promise<void> {
    await this.close();
    this.state = undefined;
    this.locked = false;
    await removeSwarmState(this.opts.dataRoot);
  }

  /** The swarm object (GET /swarm) — managers only. */
  async inspect(): Promise<Swarm> {
    // The cluster object carries TLSInfo from bootstrap.
    return publicCluster(await this.manager().cluster());
  }

  /** POST /swarm/update: a new spec at a version, token rotation and unlock key rotation. */
  async update(version: number | undefined, spec: SwarmSpec, rotate: { worker: boolean; manager: boolean; unlockKey?: boolean }): Promise<void> {
    const m = this.manager();
    if (version === undefined || !Number.isInteger(version)) throw invalid('invalid swarm version: the version query parameter is required (read it with GET /swarm)');
    const c = await m.cluster();
    // CAConfig may start a root rotation: the new root is made and cross-signed here, so this answer already shows it.
    const { applyCAConfig } = await import('../ca');
    const { autolockUpdate } = await import('../autolock');
    const withDefaults = swarmSpecWithDefaults(spec);
    const { EncryptionConfig, ManagerUnlockKey } = autolockUpdate(c, withDefaults, rotate.unlockKey === true, m.dataKey);
    const merged: Swarm = { ...c, ...(await applyCAConfig(c, { ...withDefaults, EncryptionConfig }, { dataKey: m.dataKey, nodes: (await m.store.list<Node>('nodes')).items })) };
    const next: Swarm & { ManagerUnlockKey?: unknown } = { ...merged, ManagerUnlockKey, Version: { Index: version }, JoinTokens: m.rotateTokens(merged, rotate.worker, rotate.manager), UpdatedAt: new Date().toISOString() };
    if (!ManagerUnlockKey) delete next.ManagerUnlockKey;
    await m.store.update('cluster', next as never);
  }

  /** The Swarm section of GET /info. */
  async info(): Promise<Record<string, unknown>> {
    const s = this.state;
    if (!s) return { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null };
    const base = { NodeID: s.nodeId, NodeAddr: s.advertiseAddr, LocalNodeState: this.locked ? 'locked' : this.lastError ? 'error' : 'active', ControlAvailable: s.role === 'manager' && !this.locked, Error: this.lastError, RemoteManagers: s.managers.map((Addr) => ({ NodeID: '', Addr })) };
    if (!this.manager_) return base;
    try {
      const m = this.manager_;
      const [nodes, cluster] = await Promise.all([m.store.list<{ ID: string; Spec?: { Role?: string }; ManagerStatus?: { Addr?: string } }>('nodes'), m.cluster()]);
      const managers = nodes.items.filter((n) => n.Spec?.Role === 'manager');
      const { JoinTokens: _t, ...clusterInfo } = publicCluster(cluster);
      return { ...base, RemoteManagers: managers.map((n) => ({ NodeID: n.ID, Addr: n.ManagerStatus?.Addr ?? '' })), Nodes: nodes.items.length, Managers: managers.length, Cluster: clusterInfo };
    } catch (e) {
      return { ...base, Error: errorMessage(e) };
    }
  }

  /** Daemon shutdown: stop the agent and the manager; containers and swarm state stay. */
  async close(): Promise<void> {
    this.resuming?.abort();
    this.resuming = undefined;
    await this.starting?.stop().catch(() => undefined);
    const agent = this.agent;
    const m = this.manager_;
    this.agent = undefined;
    this.manager_ = undefined;
    await agent?.stop().catch((e) => log.warn({ err: errorMessage(e) }, 'agent stop failed'));
    await m?.stop().catch((e) => log.warn({ err: errorMessage(e) }, 'manager stop failed'));
    // What was unlocked stays in this process only: the next start is locked again.
    const dir = swarmDir(this.opts.dataRoot);
    setKek(dir, undefined);
    await removeLiveDir(dir).catch((e) => log.warn({ err: errorMessage(e) }, 'cannot remove the plaintext key copies'));
  }
}

function checkAvailability(a: unknown): NodeAvailability {
  if (a === undefined || a === '') return 'active';
  if (a === 'active' || a === 'pause' || a === 'drain') return a;
  throw invalid(`invalid availability "${String(a)}": expected active, pause or drain`);
}

