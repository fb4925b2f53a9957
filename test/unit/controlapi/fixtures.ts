// Swarm objects for control API unit tests, as the store would hold them.
import assert from 'node:assert/strict';
import { httpStatus } from '../../../shared/errors';
import { validateServiceSpec } from '../../../manager/spec';
import type { Node, NodeRole, Service, Task, TaskState } from '../../../shared/swarm';

export function node(id: string, hostname: string, opts: { role?: NodeRole; state?: 'ready' | 'down'; labels?: Record<string, string>; engineLabels?: Record<string, string>; availability?: 'active' | 'drain' } = {}): Node {
  return {
    ID: id,
    Version: { Index: 10 },
    Spec: { Role: opts.role ?? 'worker', Availability: opts.availability ?? 'active', Labels: opts.labels ?? {} },
    Description: { Hostname: hostname, Engine: { Labels: opts.engineLabels ?? {} }, Platform: { OS: 'linux', Architecture: 'x86_64' } },
    Status: { State: opts.state ?? 'ready', Addr: '10.0.0.1' },
  };
}

export function service(id: string, name: string, mode: Record<string, unknown> = { Replicated: { Replicas: 2 } }, extra: Record<string, unknown> = {}): Service {
  const spec = validateServiceSpec({ Name: name, TaskTemplate: { ContainerSpec: { Image: 'busybox' } }, Mode: mode, ...extra });
  return { ID: id, Version: { Index: 20 }, Spec: spec };
}

export function task(id: string, svc: Service, opts: { slot?: number; node?: string; state?: TaskState; desired?: TaskState; iteration?: number } = {}): Task {
  return {
    ID: id,
    Version: { Index: 30 },
    ServiceID: svc.ID,
    Slot: opts.slot,
    NodeID: opts.node,
    Spec: structuredClone(svc.Spec.TaskTemplate ?? {}),
    Status: { State: opts.state ?? 'running' },
    DesiredState: opts.desired ?? 'running',
    ...(opts.iteration !== undefined ? { JobIteration: { Index: opts.iteration } } : {}),
  };
}

export function filters(obj: Record<string, string[]>): Map<string, string[]> {
  return new Map(Object.entries(obj));
}

/** An assert.throws validator: the error's HTTP status and exact message. */
export const refused = (status: number, message: string) => (err: unknown) => {
  assert.equal(httpStatus(err), status);
  assert.equal((err as Error).message, message);
  return true;
};
