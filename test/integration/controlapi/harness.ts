// A manager's control API as the daemon will serve it: registerControlRoutes on a real Router
// and ApiServer (unix socket), over an EtcdStore on a real etcd member started for the suite.
// What is the lead's and not under test here is stood in for, and said so:
//   - /_ping and a minimal /info (the CLI asks them; the real ones are the daemon's);
//   - promote/demote callbacks are left out (the manager-join path is not part of this API);
//   - the LogSource replays lines a test put in `logLines` (for formatting tests only: the real
//     one gathers lines from workers over NATS).
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ApiServer, Router } from '../../../shared/api';
import { EngineClient } from '../../../shared/client';
import { EventBus } from '../../../shared/events';
import { logger } from '../../../shared/log';
import { EtcdStore, type StoredObject } from '../../../manager/store';
import { registerControlRoutes, type ControlContext, type LogLine, type LogOptions, type LogSelector, type SwarmRole } from '../../../manager/api';
import type { Node } from '../../../shared/swarm';
import { startTestEtcd, type TestEtcd } from '../../helpers/etcd';
import { docker, type CliResult } from '../../helpers/docker';

export interface Harness {
  store: EtcdStore;
  events: EventBus;
  client: EngineClient;
  host: string;
  ctx: ControlContext;
  role: SwarmRole;
  /** Lines the test LogSource replays; what it was asked is recorded in logRequests. */
  logLines: LogLine[];
  logRequests: Array<{ selector: LogSelector; opts: LogOptions }>;
  /** How many log iterations have finished (ended, or closed by the handler). */
  logsEnded: number;
  /** Resolves once `cond` holds, checking every 20 ms (wrap it in within() as a hang guard). */
  waitFor(cond: () => boolean): Promise<void>;
  dk(...args: string[]): Promise<CliResult>;
  /** Every object of every kind the API writes, to show a refused request wrote nothing. */
  snapshot(): Promise<string>;
  destroy(): Promise<void>;
}

/** A swarm-style 25-character ID. */
export function swarmId(): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  return [...randomBytes(25)].map((b) => alphabet[b % 36]).join('');
}

export const SELF = 'selfnode0000000000000000a';

export function testNode(id: string, hostname: string, opts: Partial<Pick<Node, 'ManagerStatus'>> & { role?: 'worker' | 'manager'; state?: 'ready' | 'down' } = {}): Node {
  return {
    ID: id,
    Spec: { Role: opts.role ?? 'worker', Availability: 'active', Labels: {} },
    Description: { Hostname: hostname, Platform: { OS: 'linux', Architecture: 'x86_64' }, Engine: { EngineVersion: '0.1.0', Labels: {} }, Resources: { NanoCPUs: 2e9, MemoryBytes: 2 ** 31 } },
    Status: { State: opts.state ?? 'ready', Addr: '127.0.0.1' },
    ...(opts.ManagerStatus !== undefined ? { ManagerStatus: opts.ManagerStatus } : {}),
  };
}

export async function startHarness(): Promise<Harness> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'shoal-controlapi-'));
  let etcd: TestEtcd | undefined;
  let server: ApiServer | undefined;
  try {
    etcd = await startTestEtcd();
    const store = EtcdStore.connect(etcd.endpoints);
    const events = new EventBus();
    const h = { role: 'manager' as SwarmRole, logLines: [] as LogLine[], logRequests: [] as Harness['logRequests'], logsEnded: 0 };
    const ctx: ControlContext = {
      store,
      role: () => h.role,
      nodeId: () => SELF,
      events,
      newId: swarmId,
      now: () => new Date(),
      logs: {
        // Test stand-in: replays the given lines; with follow it then waits until the client goes.
        async *logs(selector, opts, signal) {
          h.logRequests.push({ selector, opts });
          try {
            for (const l of h.logLines) {
              if (selector.serviceId && l.serviceId !== selector.serviceId) continue;
              if (selector.taskId && l.taskId !== selector.taskId) continue;
              yield l;
            }
            if (opts.follow && !signal.aborted) await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
          } finally {
            h.logsEnded++;
          }
        },
      },
    };
    const router = new Router();
    registerControlRoutes(router, ctx);
    // Stand-ins for the daemon's own endpoints, which the CLI calls around the ones under test.
    router.get('/_ping', (c) => c.send(200, 'OK', { 'Content-Type': 'text/plain; charset=utf-8', Swarm: 'active/manager' }));
    router.head('/_ping', (c) => c.send(200, undefined, { Swarm: 'active/manager' }));
    router.get('/info', (c) => c.json200({ ID: SELF, Name: 'self', Swarm: { NodeID: SELF, LocalNodeState: 'active', ControlAvailable: true, Error: '', RemoteManagers: null } }));
    server = new ApiServer(router, logger('controlapi-test'));
    const sock = join(dir, 'api.sock');
    await server.listen([{ kind: 'unix', address: sock }]);
    const host = `unix://${sock}`;
    const client = new EngineClient(host);
    const e = etcd;
    const srv = server;
    return Object.assign(h, {
      store,
      events,
      client,
      host,
      ctx,
      dk: (...args: string[]) => docker(host, args),
      async waitFor(cond: () => boolean) {
        while (!cond()) await new Promise((r) => setTimeout(r, 20));
      },
      async snapshot() {
        const kinds = ['services', 'nodes', 'tasks'] as const;
        const lists = await Promise.all(kinds.map((k) => store.list<StoredObject>(k)));
        return JSON.stringify(lists.map((l) => l.items));
      },
      async destroy() {
        client.close();
        await srv.close();
        await store.close();
        await e.destroy();
        await fs.rm(dir, { recursive: true, force: true });
      },
    });
  } catch (err) {
    await server?.close();
    await etcd?.destroy();
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
}
