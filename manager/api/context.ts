// What the control API handlers need from the daemon. The lead builds one ControlContext per
// daemon and mounts registerControlRoutes on its router; every route asks role() first.
import { ShoalError } from '../../shared/errors';
import type { EventBus } from '../../shared/events';
import type { ManagerStatus, Node } from '../../shared/swarm';
import type { ClusterStore } from '../store';
import type { DataKey } from '../../shared/crypto/seal';

export type SwarmRole = 'none' | 'worker' | 'manager';

/** Which logs a request wants: one service's tasks, or one task. IDs are resolved already. */
export interface LogSelector {
  serviceId?: string;
  taskId?: string;
}

export interface LogOptions {
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Only lines at or after this time: dockerd's form, unix seconds with an optional fraction ("1700000000.5"), checked. */
  since?: string;
  /** Only the last N lines of each task's history (then new lines when following); undefined: all. */
  tail?: number;
}

/** One container log line shipped from a worker. */
export interface LogLine {
  stream: 'stdout' | 'stderr';
  /** The bytes as the container wrote them, normally ending in "\n". */
  line: Buffer;
  /** When the line was written: RFC 3339 (nanoseconds kept when given), or integer nanoseconds since the epoch as a decimal string. */
  timestamp: string;
  serviceId: string;
  taskId: string;
  nodeId: string;
  /** Extra details (e.g. the container's log attributes), shown with details=1. */
  attrs?: Record<string, string>;
}

/**
 * Container logs of swarm tasks, gathered from the workers over the bus. The iterable ends when
 * the history is sent (follow off) or when the signal aborts; an error thrown by it reaches the
 * client in-stream, as dockerd's "Error grabbing logs" line.
 */
export interface LogSource {
  logs(selector: LogSelector, opts: LogOptions, signal: AbortSignal): AsyncIterable<LogLine>;
}

export interface ControlContext {
  store: ClusterStore;
  /** This node's place in the swarm; anything but 'manager' answers 503. */
  role(): SwarmRole;
  /** This node's swarm ID, when it has one. */
  nodeId(): string | undefined;
  logs: LogSource;
  /** Service and node events (Type service/node, scope swarm) are published here when given. */
  events?: EventBus;
  /** A new object ID (services). */
  newId(): string;
  now(): Date;
  /** The cluster data key this manager holds (seals and opens secrets); absent, secrets answer 503. */
  dataKey?(): DataKey | undefined;
  /**
   * Called before a node's Spec.Role becomes manager is written (version already checked);
   * throw to refuse, and nothing is written. Absent: promotion answers 501.
   */
  promote?(node: Node): Promise<void>;
  /** As promote, for manager -> worker (after the last-manager check). Absent: demotion answers 501. */
  demote?(node: Node): Promise<void>;
  /** Set while reads may be stale (no quorum): sent as the Warning header of every answer. */
  readWarning?(): string | undefined;
  /** A manager node's live ManagerStatus (leader, reachability), shown instead of the stored one. */
  managerStatus?(node: Node): ManagerStatus | undefined;
}

const NOT_IN_SWARM = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
const WORKER =
  "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.";

/** dockerd's 503 for a node that cannot serve cluster state. */
export function requireManager(c: Pick<ControlContext, 'role'>): void {
  const role = c.role();
  if (role === 'manager') return;
  throw new ShoalError('UNAVAILABLE', role === 'worker' ? WORKER : NOT_IN_SWARM);
}
