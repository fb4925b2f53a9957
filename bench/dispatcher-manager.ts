// The manager side of the dispatcher benchmark (bench/dispatcher.ts), in a process of its own
// so that its resident memory is the manager's alone: what a leading manager runs for its
// workers, as manager/manager.ts runs it. An RpcServer with the Dispatcher on mTLS, the
// dispatcher started, the leader loops on the same etcd store, and the manager's own agent
// session (shoald runs one on every node, managers included). No engine, HTTP API or bus.
// Also the IPC plumbing the benchmark's child processes share (this module stays light: the
// manager's memory is what is measured).
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Dispatcher } from '../manager/dispatcher';
import { LeaderComponents } from '../manager/leader';
import { EtcdStore } from '../manager/store';
import { errorMessage } from '../shared/errors';
import { addDispatcherService, RpcServer, serverCredentials, TlsIdentity, type NodeCredentials } from '../shared/rpc';
import type { NodeDescription } from '../shared/swarm';
import { AgentSession, type StatusReport, type TaskExecutor } from '../worker/agent/session';

// ------------------------------------------------------------------ IPC

type Msg = { type: string };
/** What every child may answer besides its own messages. */
export type ChildFailure = { type: 'error'; message: string };

/** A child process of the benchmark, asked typed questions over its IPC channel. */
export class BenchChild<In extends Msg, Out extends Msg> {
  private constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {}

  /** Fork `script` (a .js beside this one); its stdout and stderr go to `logFile`. */
  static fork<In extends Msg, Out extends Msg>(name: string, script: string, opts: { args?: string[]; logFile: string; logLevel: string; execArgv?: string[] }): BenchChild<In, Out> {
    const fd = openSync(opts.logFile, 'a');
    try {
      const proc = fork(script, opts.args ?? [], { stdio: ['ignore', fd, fd, 'ipc'], execArgv: opts.execArgv ?? [], env: { ...process.env, SHOAL_LOG_LEVEL: opts.logLevel } });
      return new BenchChild<In, Out>(name, proc);
    } finally {
      closeSync(fd);
    }
  }

  get pid(): number {
    return this.proc.pid as number;
  }

  /** Send `msg` and wait for the answer of type `want`; an 'error' answer, the child's exit or the timeout rejects. */
  async ask<T extends Out['type']>(msg: In, want: T, timeoutMs = 60_000): Promise<Extract<Out, { type: T }>> {
    let onMsg: (m: Out | ChildFailure) => void = () => undefined;
    let onExit: (code: number | null, sig: string | null) => void = () => undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = new Promise<Extract<Out, { type: T }>>((resolve, reject) => {
        onMsg = (m) => {
          if (m.type === want) resolve(m as Extract<Out, { type: T }>);
          else if (m.type === 'error') reject(new Error(`${this.name}: ${(m as ChildFailure).message}`));
        };
        onExit = (code, sig) => reject(new Error(`${this.name} exited (${sig ?? code})`));
        timer = setTimeout(() => reject(new Error(`${this.name}: no '${want}' answer within ${timeoutMs} ms`)), timeoutMs);
      });
      this.proc.on('message', onMsg).once('exit', onExit);
      this.proc.send(msg);
      return await answer;
    } finally {
      clearTimeout(timer);
      this.proc.off('message', onMsg).off('exit', onExit);
    }
  }

  /** Ask it to stop (`stop` answered by 'stopped'), then wait for its exit; SIGKILL when either takes longer than the grace. */
  async stop(stop: In, graceMs = 15_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = once(this.proc, 'exit');
    await this.ask(stop, 'stopped' as Out['type'], graceMs).catch(() => this.proc.kill('SIGKILL'));
    await Promise.race([exited, sleep(graceMs)]);
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGKILL');
      await exited;
    }
  }
}

/**
 * The child's side: every message from the parent goes to `handle`, which answers with
 * `reply`; a failure is answered with 'error' and ends the process. So does the parent going
 * away (nothing is left to report to).
 */
export function serveParent<In extends Msg, Out extends Msg>(handle: (msg: In, reply: (answer: Out | ChildFailure, exitCode?: number) => void) => unknown): void {
  const reply = (answer: Out | ChildFailure, exitCode?: number) => process.send?.(answer, undefined, {}, () => exitCode !== undefined && process.exit(exitCode));
  process.on('disconnect', () => process.exit(1));
  process.on('message', (msg: In) => {
    Promise.resolve()
      .then(() => handle(msg, reply))
      .catch((err) => reply({ type: 'error', message: errorMessage(err) }, 1));
  });
}

/**
 * A simulated node's executor: it takes whatever is assigned and runs nothing, so it never has
 * a status to report. Its report stream ends with `signal`.
 */
export function idleExecutor(signal: AbortSignal): TaskExecutor {
  return {
    setAssignments: () => undefined,
    applyChanges: () => undefined,
    async *statusUpdates(): AsyncIterable<StatusReport[]> {
      if (!signal.aborted) await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
    },
  };
}

// ------------------------------------------------------------------ the manager

export interface ManagerStart {
  type: 'start';
  etcdEndpoints: string[];
  clusterId: string;
  /** The manager's certificate from the cluster root (role manager, SAN 127.0.0.1). */
  creds: NodeCredentials;
  /** 127.0.0.1:<port> to serve gRPC on; the manager node in the store names it. */
  addr: string;
  description: NodeDescription;
}

/** usage with gc: a full collection first (the child runs with --expose-gc), to tell live memory from garbage. */
export type ManagerIn = ManagerStart | { type: 'usage'; gc?: boolean } | { type: 'stop' };
export type ManagerOut = { type: 'ready' } | { type: 'usage'; memory: NodeJS.MemoryUsage; cpu: NodeJS.CpuUsage } | { type: 'stopped' };

interface Running {
  ac: AbortController;
  store: EtcdStore;
  rpc: RpcServer;
  dispatcher: Dispatcher;
  leader: LeaderComponents;
  agent: AgentSession;
}

async function start(m: ManagerStart): Promise<Running> {
  const ac = new AbortController();
  const store = EtcdStore.connect(m.etcdEndpoints);
  const identity = new TlsIdentity(m.creds);
  const rpc = new RpcServer();
  const dispatcher = new Dispatcher({ store, clusterId: m.clusterId });
  addDispatcherService(rpc, dispatcher);
  await rpc.listen(m.addr, serverCredentials(identity, 'optional'));
  // What the manager does on winning the election: the dispatcher first, then the loops.
  await dispatcher.start(ac.signal);
  const leader = new LeaderComponents({ store });
  await leader.start(ac.signal);
  const agent = new AgentSession({ identity, clusterId: m.clusterId, managers: [m.addr], executor: idleExecutor(ac.signal), description: () => m.description });
  agent.start(ac.signal);
  return { ac, store, rpc, dispatcher, leader, agent };
}

async function stop(r: Running): Promise<void> {
  r.ac.abort();
  await r.agent.stop();
  await r.dispatcher.stop();
  await r.leader.stop();
  await r.rpc.stop(500);
  await r.store.close();
}

function main(): void {
  let running: Promise<Running> | undefined;
  serveParent<ManagerIn, ManagerOut>(async (msg, reply) => {
    if (msg.type === 'start' && !running) {
      running = start(msg);
      await running;
      reply({ type: 'ready' });
    } else if (msg.type === 'usage') {
      if (msg.gc) global.gc?.();
      reply({ type: 'usage', memory: process.memoryUsage(), cpu: process.cpuUsage() });
    } else if (msg.type === 'stop') {
      if (running) await stop(await running);
      reply({ type: 'stopped' }, 0);
    }
  });
}

if (require.main === module) main();
