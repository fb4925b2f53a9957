// The agent every swarm member runs: a session with the managers' dispatcher feeding the task
// manager (tasks -> containers), status reports back, and the log server on the bus once the
// session has said where the bus is. Composition only.
import { logger } from '../../shared/log';
import { errorMessage } from '../../shared/errors';
import { Bus, nodeBusTls } from '../../shared/bus';
import { TlsIdentity, loadNodeCredentials, type DispatcherClient, type NodeCredentials, type NodeRole } from '../../shared/rpc';
import { unavailable } from '../../shared/errors';
import type { Engine } from '../engine/engine';
import { TaskManager, TASK_ID_LABEL, type AgentTask } from './tasks';
import { AgentSession, gatherNodeDescription, type TaskExecutor, type StatusReport } from './session';
import { LogServer } from './logs/server';
import { swarmNetworking } from './tasks/networking';
import { SwarmNetworkFollower } from './session/networks';
import { NetworkAttachments } from './session/attachments';
import { TaskSecrets } from './secrets';
import { NodeCertificates, heldCertificate, type RenewedCertificate } from './certs';

const log = logger('agent');

function certRole(creds: NodeCredentials): NodeRole | undefined {
  try {
    return heldCertificate(creds).role;
  } catch {
    return undefined;
  }
}

export interface AgentOptions {
  engine: Engine;
  nodeId: string;
  nodeName: string;
  /** Where the node's certificate is (shared/rpc certstore). */
  stateDir: string;
  managers: string[];
  /** This node's address in the swarm: the source of its VXLAN tunnels. */
  advertiseAddr: string;
  /**
   * After each renewal of the node certificate (already saved and in use), awaited before the
   * node reports its new certificate and root. For what reads the certificate files once: a
   * manager's etcd must restart when `trustChanged` (see manager/ca syncDiskCA).
   */
  onCertificateRenewed?: (r: RenewedCertificate) => void | Promise<void>;
  /** The managers the sessions name changed: kept by the caller, so that a restart finds one. */
  onManagers?: (addrs: string[]) => void;
}

export class Agent {
  private readonly ac = new AbortController();
  private tasks?: TaskManager;
  private session?: AgentSession;
  private certs?: NodeCertificates;
  private bus?: Promise<Bus | undefined>;

  constructor(private readonly opts: AgentOptions) {}

  async start(): Promise<void> {
    const { engine, nodeId, nodeName } = this.opts;
    const creds = await loadNodeCredentials(this.opts.stateDir);
    if (!creds) throw unavailable(`no node certificate under ${this.opts.stateDir}; leave the swarm and join again`);
    const signal = this.ac.signal;
    const local = this.opts.advertiseAddr;
    // Secrets and configs the dispatcher sends stay in memory until a task's tmpfs gets them.
    const secrets = new TaskSecrets(engine.config.execRoot);
    const tasks = new TaskManager({
      engine,
      files: secrets,
      node: { ID: nodeId, Hostname: nodeName, Platform: { OS: 'linux', Architecture: process.arch === 'x64' ? 'x86_64' : process.arch } },
      attach: swarmNetworking(engine.networks, local),
    });
    await tasks.start(signal);
    this.tasks = tasks;
    const networks = new SwarmNetworkFollower(engine.networks, local, signal);
    // Plain containers on attachable networks: their attachments are tasks of no service, which
    // go here rather than to the task manager (they have no container of their own to run).
    const attachments = new NetworkAttachments({
      calls: {
        attach: (req, sig) => this.call((d, sessionId, o) => d.attachNetwork({ sessionId, ...req }, o).then((r) => r.attachmentId), sig),
        detach: (attachmentId) => this.call((d, sessionId, o) => d.detachNetwork({ sessionId, attachmentId }, o)).then(() => undefined),
      },
      holder: engine.networks,
      local,
      report: (taskId, status) => tasks.statuses.put(taskId, status),
    });
    const executor: TaskExecutor = {
      setAssignments: (t, deps) => {
        const { attachments: atts, others } = NetworkAttachments.split(t);
        networks.setAll(deps.networks);
        secrets.payloads.setAll(deps.secrets, deps.configs);
        attachments.setAll(atts);
        tasks.update(others as AgentTask[]);
      },
      applyChanges: (c) => {
        const { attachments: atts, others } = NetworkAttachments.split(c.updated);
        networks.apply(c.dependencies.updated.networks, c.dependencies.removed.networks);
        secrets.payloads.apply(c.dependencies.updated, c.dependencies.removed);
        attachments.apply(atts, c.removed);
        tasks.apply({ updated: others as AgentTask[], removed: c.removed });
      },
      // The session keeps the latest unsent report per task itself, so a batch is acked once handed over.
      statusUpdates: async function* (): AsyncIterable<StatusReport[]> {
        for (;;) {
          const b = await tasks.statuses.next(signal);
          b.ack();
          yield b.updates;
        }
      },
    };
    const identity = new TlsIdentity(creds);
    const session = new AgentSession({ identity, managers: this.opts.managers, executor, description: () => gatherNodeDescription({ hostname: nodeName }) });
    let known = this.opts.managers.join();
    session.onState((s) => {
      if (s.state === 'connected' && s.bus && !this.bus) this.bus = this.serveLogs(s.bus);
      const now = session.managers.list();
      if (s.state === 'connected' && now.join() !== known) {
        known = now.join();
        this.opts.onManagers?.(now);
      }
    });
    session.start(signal);
    this.session = session;
    // The certificate renews itself (on schedule, and when the managers want a new root or role)
    // into the same identity: the session keeps its connection, new connections use the new one.
    const certs = new NodeCertificates({ identity, stateDir: this.opts.stateDir, managers: () => session.managers.list(), addr: local });
    let role = certRole(creds);
    certs.onRenewed(async (r) => {
      if (role && r.role !== role) log.warn({ from: role, to: r.role }, "the node's certificate now names another role; the daemon runs as it did until it is restarted");
      role = r.role;
      await this.opts.onCertificateRenewed?.(r);
    });
    certs.start(signal);
    this.certs = certs;
    engine.networks.setSwarmAttacher(attachments);
    log.info({ nodeId, managers: this.opts.managers }, 'agent started');
  }

  /** Answer log requests for this node's tasks, on the bus the session named. */
  private async serveLogs(b: { urls: string[]; token?: string }): Promise<Bus | undefined> {
    try {
      const bus = await Bus.connect(b.urls, { token: b.token, name: `agent-${this.opts.nodeId}`, signal: this.ac.signal, tls: nodeBusTls(this.opts.stateDir) });
      const containers = this.opts.engine.containers;
      const server = new LogServer(bus, this.opts.nodeId, {
        containerOf: async (taskId) => (await containers.list({ all: true, filters: new Map([['label', [`${TASK_ID_LABEL}=${taskId}`]]]) }))[0]?.Id as string | undefined,
        logs: (id, q) => containers.logs(id, { ...q }).entries,
      });
      void server.run(this.ac.signal).catch((e) => log.warn({ err: errorMessage(e) }, 'log server stopped'));
      return bus;
    } catch (e) {
      log.warn({ err: errorMessage(e) }, 'cannot reach the bus; logs are not served');
      this.bus = undefined;
      return undefined;
    }
  }

  /** A dispatcher call on the open session. */
  private call<T>(fn: (d: DispatcherClient, sessionId: string, opts: { signal: AbortSignal; timeoutMs: number }) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (!this.session) return Promise.reject(unavailable('the agent has no session'));
    return this.session.call(fn, { signal });
  }

  /** Stop the session and the task manager; containers keep running. */
  async stop(): Promise<void> {
    this.opts.engine.networks.setSwarmAttacher(undefined);
    this.ac.abort();
    await this.certs?.stop().catch(() => undefined);
    await this.session?.stop().catch(() => undefined);
    await this.tasks?.close().catch(() => undefined);
    const bus = await this.bus?.catch(() => undefined);
    await bus?.close().catch(() => undefined);
  }
}
