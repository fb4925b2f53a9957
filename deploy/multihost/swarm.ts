// Forming the lab's cluster through the Docker swarm API, as `docker swarm init/join` would:
// init on the first manager, then join the other managers one at a time (each is a Raft
// membership change) and the workers, and wait until the first manager lists every node ready.
import { ApiError, type EngineClient } from '../../shared/client';
import { errorMessage, unavailable } from '../../shared/errors';

export const SWARM_PORT = 2377;

export interface SwarmMember {
  name: string;
  role: 'manager' | 'worker';
  address: string;
  client: EngineClient;
}

function explain(host: string, step: string, e: unknown): Error {
  if (e instanceof ApiError && (e.status === 404 || e.status === 501)) {
    return unavailable(`${host}: ${step} answered ${e.status} (${e.message}): this shoald has no swarm API; use --standalone for hosts without a cluster`);
  }
  return unavailable(`${host}: ${step} failed: ${errorMessage(e)}`, e);
}

export async function formSwarm(members: SwarmMember[], opts: { readyTimeoutMs?: number; log?: (msg: string) => void; autolock?: boolean } = {}): Promise<void> {
  const managers = members.filter((m) => m.role === 'manager');
  const workers = members.filter((m) => m.role === 'worker');
  const first = managers[0];
  if (!first) throw unavailable('a cluster needs a manager');
  const listen = (m: SwarmMember) => ({ ListenAddr: `${m.address}:${SWARM_PORT}`, AdvertiseAddr: m.address });
  try {
    await first.client.post('/swarm/init', { body: { ...listen(first), ...(opts.autolock ? { AutoLockManagers: true } : {}) } });
    if (opts.autolock) opts.log?.(`${first.name}: autolock on; unlock key ${(await first.client.get<{ UnlockKey: string }>('/swarm/unlockkey')).UnlockKey}`);
  } catch (e) {
    throw explain(first.name, 'POST /swarm/init', e);
  }
  opts.log?.(`${first.name}: swarm initialised`);
  let tokens: { Worker: string; Manager: string };
  try {
    ({ JoinTokens: tokens } = await first.client.get<{ JoinTokens: { Worker: string; Manager: string } }>('/swarm'));
  } catch (e) {
    throw explain(first.name, 'GET /swarm', e);
  }
  if (!tokens?.Worker || !tokens?.Manager) throw unavailable(`${first.name}: GET /swarm returned no join tokens`);
  const join = async (m: SwarmMember) => {
    const body = { ...listen(m), RemoteAddrs: [`${first.address}:${SWARM_PORT}`], JoinToken: m.role === 'manager' ? tokens.Manager : tokens.Worker };
    try {
      await m.client.post('/swarm/join', { body });
    } catch (e) {
      throw explain(m.name, `POST /swarm/join (as ${m.role})`, e);
    }
    opts.log?.(`${m.name}: joined as ${m.role}`);
  };
  for (const m of managers.slice(1)) await join(m);
  await Promise.all(workers.map(join));
  await waitReady(first, members.length, opts.readyTimeoutMs ?? 60_000);
}

/** Poll GET /nodes on the first manager until `count` nodes are ready. */
async function waitReady(first: SwarmMember, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const nodes = await first.client.get<Array<{ Description?: { Hostname?: string }; Status?: { State?: string } }>>('/nodes');
      const ready = nodes.filter((n) => n.Status?.State === 'ready').length;
      if (ready >= count) return;
      last = `${ready} of ${count} nodes ready (${nodes.map((n) => `${n.Description?.Hostname ?? '?'}=${n.Status?.State ?? '?'}`).join(', ')})`;
    } catch (e) {
      last = `GET /nodes: ${errorMessage(e)}`;
    }
    if (Date.now() > deadline) throw unavailable(`${first.name}: the cluster did not become ready: ${last}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
