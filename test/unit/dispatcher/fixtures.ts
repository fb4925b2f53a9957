// Small builders for the dispatcher's unit tests.
import type { Task, TaskState } from '../../../shared/swarm';

export function task(id: string, nodeId: string | undefined, state: TaskState, over: Partial<Task> = {}): Task {
  return {
    ID: id,
    Version: { Index: 1 },
    ServiceID: 'svc1',
    Slot: 1,
    NodeID: nodeId,
    Spec: { ContainerSpec: { Image: 'busybox' } },
    Status: { State: state, Timestamp: '2024-01-01T00:00:00.000Z', Message: state },
    DesiredState: 'running',
    ...over,
  };
}

export class FakeClock {
  constructor(public t = 1_000_000) {}
  now = () => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}
