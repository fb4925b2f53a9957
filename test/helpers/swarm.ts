// Helpers for swarm tests on the lab: service specs, task queries, and waiting for convergence.
import type { EngineClient } from '../../shared/client';

export interface TaskJson {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Slot?: number;
  DesiredState: string;
  Status: { State: string; Err?: string; Message?: string; ContainerStatus?: { ContainerID?: string } };
}

export interface NodeJson {
  ID: string;
  Version: { Index: number };
  Spec: { Role: string; Availability: string; Labels?: Record<string, string> };
  Description: { Hostname: string };
  Status: { State: string };
}

export function busyboxService(name: string, extra: Record<string, unknown> = {}, container: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Name: name,
    TaskTemplate: { ContainerSpec: { Image: 'busybox', Command: ['sleep', '3600'], StopGracePeriod: 1e9, ...container } },
    Mode: { Replicated: { Replicas: 1 } },
    ...extra,
  };
}

export async function tasksOf(c: EngineClient, service: string, desiredRunning = true): Promise<TaskJson[]> {
  const filters: Record<string, string[]> = { service: [service] };
  if (desiredRunning) filters['desired-state'] = ['running'];
  return c.get<TaskJson[]>('/tasks', { query: { filters: JSON.stringify(filters) } });
}

export async function nodesByName(c: EngineClient): Promise<Map<string, NodeJson>> {
  const nodes = await c.get<NodeJson[]>('/nodes');
  return new Map(nodes.map((n) => [n.Description.Hostname, n]));
}

/** Poll until check() passes (no timing assertion: a generous deadline, then the last failure). */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Wait until exactly `n` tasks of the service run (desired and observed), and return them. */
export function running(c: EngineClient, service: string, n: number, timeoutMs?: number): Promise<TaskJson[]> {
  return eventually(
    `${n} running tasks of ${service}`,
    async () => {
      const ts = (await tasksOf(c, service)).filter((t) => t.Status.State === 'running');
      return ts.length === n ? ts : undefined;
    },
    timeoutMs,
  );
}

/** Containers of swarm tasks that run on a host (through its own engine API). */
export async function taskContainers(c: EngineClient, service?: string): Promise<Array<{ Id: string; Labels: Record<string, string>; State: string }>> {
  const label = service ? [`com.docker.swarm.service.id=${service}`] : ['com.docker.swarm.task.id'];
  return c.get('/containers/json', { query: { filters: JSON.stringify({ label }) } });
}
