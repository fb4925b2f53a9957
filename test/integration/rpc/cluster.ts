// A one-manager control plane for the rpc tests: a root CA, join tokens, and one grpc-js
// server on loopback serving NodeCA and a recording Dispatcher on two ports, one taking
// optional client certificates and one requiring them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { notFound } from '../../../shared/errors';
import {
  addDispatcherService,
  addNodeCAService,
  RpcServer,
  serverCredentials,
  TlsIdentity,
  type CallContext,
  type DispatcherHandlers,
  type NodeIdentity,
  type NodeRole,
} from '../../../shared/rpc';
import { newJoinTokens, newSwarmId, NodeCAService, RootCA, type JoinTokens, type NodeCAServiceOptions, type NodeJoinInfo } from '../../../manager/ca';

/** A Dispatcher that records who called and answers from fixed rules; it exercises the transport. */
export class RecordingDispatcher implements DispatcherHandlers {
  readonly peers: Array<NodeIdentity | undefined> = [];
  readonly statusUpdates: Array<{ node: string; taskId: string; status: unknown }> = [];
  /** Resolves with the method name when a handler sees its call aborted. */
  aborted!: Promise<string>;
  private resolveAborted!: (m: string) => void;

  constructor() {
    this.resetAborted();
  }

  resetAborted(): void {
    this.aborted = new Promise((r) => (this.resolveAborted = r));
  }

  private waitForAbort(ctx: CallContext): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.resolveAborted(ctx.method);
        resolve();
      };
      if (ctx.signal.aborted) done();
      else ctx.signal.addEventListener('abort', done, { once: true });
    });
  }

  async *session(req: { description: string; sessionId: string }, ctx: CallContext) {
    this.peers.push(ctx.peer);
    yield { sessionId: `s-${ctx.peer?.nodeId}`, managers: [{ nodeId: 'm1', addr: '127.0.0.1:1', weight: 10 }], node: JSON.stringify({ ID: ctx.peer?.nodeId }), heartbeatPeriodMs: 5000 };
    await this.waitForAbort(ctx);
  }

  async heartbeat(req: { sessionId: string }, ctx: CallContext) {
    this.peers.push(ctx.peer);
    if (req.sessionId === 'hang') await this.waitForAbort(ctx);
    return { periodMs: 5000 };
  }

  async *assignments(req: { sessionId: string }, ctx: CallContext) {
    this.peers.push(ctx.peer);
    yield { type: 'COMPLETE' as const, appliesTo: '', resultsIn: 'v1', changes: [{ action: 'UPDATE' as const, task: JSON.stringify({ ID: 't1' }) }, { action: 'UPDATE' as const, network: JSON.stringify({ ID: 'n1' }) }] };
    yield { type: 'INCREMENTAL' as const, appliesTo: 'v1', resultsIn: 'v2', changes: [{ action: 'REMOVE' as const, task: JSON.stringify({ ID: 't1' }) }] };
  }

  async updateTaskStatus(req: { sessionId: string; updates: Array<{ taskId: string; status: string }> }, ctx: CallContext) {
    this.peers.push(ctx.peer);
    for (const u of req.updates) {
      if (!u.taskId.startsWith('t')) throw notFound(`no such task: ${u.taskId}`);
      this.statusUpdates.push({ node: ctx.peer!.nodeId, taskId: u.taskId, status: JSON.parse(u.status) });
    }
    return {};
  }

  /** Attachments recorded as asked; the ID says which network and container (the transport is what is tested). */
  async attachNetwork(req: { network: string; containerId: string }, ctx: CallContext) {
    this.peers.push(ctx.peer);
    return { attachmentId: `${req.network}/${req.containerId}` };
  }

  async detachNetwork(req: { attachmentId: string }, ctx: CallContext) {
    this.peers.push(ctx.peer);
    if (!req.attachmentId.includes('/')) throw notFound(`no such attachment: ${req.attachmentId}`);
    return {};
  }
}

export interface TestCluster {
  base: string;
  ca: RootCA;
  clusterId: string;
  tokens: JoinTokens;
  managerId: string;
  /** The manager's own identity (what its server presents). */
  identity: TlsIdentity;
  server: RpcServer;
  /** host:port taking optional client certificates (join, and per-method checks). */
  openAddr: string;
  /** host:port whose handshake requires a client certificate from the cluster CA. */
  mtlsAddr: string;
  dispatcher: RecordingDispatcher;
  registered: Array<{ nodeId: string; role: NodeRole; info: NodeJoinInfo }>;
  /** How many IssueNodeCertificate calls reached the service. */
  issueCalls: number;
  stop(): Promise<void>;
}

export async function startCluster(overrides: Partial<NodeCAServiceOptions> = {}): Promise<TestCluster> {
  const base = await mkdtemp(join(tmpdir(), 'shoal-rpc-'));
  try {
    return await serve(base, overrides);
  } catch (e) {
    await rm(base, { recursive: true, force: true });
    throw e;
  }
}

async function serve(base: string, overrides: Partial<NodeCAServiceOptions>): Promise<TestCluster> {
  const ca = await RootCA.generate();
  const clusterId = newSwarmId();
  const managerId = newSwarmId();
  const identity = new TlsIdentity(await ca.issueCredentials({ nodeId: managerId, role: 'manager', clusterId, addr: '127.0.0.1' }));
  const server = new RpcServer();
  const dispatcher = new RecordingDispatcher();
  const c = { base, ca, clusterId, managerId, identity, server, dispatcher, registered: [], issueCalls: 0, tokens: newJoinTokens(ca.digest) } as unknown as TestCluster;
  const service = new NodeCAService({
    rootCA: ca,
    clusterId,
    joinTokens: () => c.tokens,
    registerNode: async (nodeId, role, info) => {
      c.registered.push({ nodeId, role, info });
    },
    ...overrides,
  });
  const issue = service.issueNodeCertificate.bind(service);
  service.issueNodeCertificate = (req, ctx) => {
    c.issueCalls++;
    return issue(req, ctx);
  };
  addNodeCAService(server, service);
  addDispatcherService(server, dispatcher);
  try {
    c.openAddr = `127.0.0.1:${await server.listen('127.0.0.1:0', serverCredentials(identity, 'optional'))}`;
    c.mtlsAddr = `127.0.0.1:${await server.listen('127.0.0.1:0', serverCredentials(identity, 'require'))}`;
  } catch (e) {
    await server.stop(0);
    throw e;
  }
  c.stop = async () => {
    await server.stop(1000);
    await rm(base, { recursive: true, force: true });
  };
  return c;
}
