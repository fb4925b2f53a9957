// The dispatcher's timing. Docker's default heartbeat period is 5 s; shoal's is shorter so that a
// dead worker is DOWN (and its tasks replaced) well within a 3 s failover target.
import type { Cluster } from '../../shared/swarm';

/** Used when the cluster spec sets no Dispatcher.HeartbeatPeriod. */
export const DEFAULT_HEARTBEAT_PERIOD_MS = 500;

/**
 * A node is DOWN after this many periods without a heartbeat: one late or lost heartbeat (a GC
 * pause, a retransmit) must not flap the node, three in a row mean it is gone. With the default
 * period that is 1.5 s.
 */
export const HEARTBEAT_GRACE_MULTIPLIER = 3;

/**
 * A node whose session connection went away (its agent's process died, or it closed the call)
 * must open a new session within this many periods, or it is DOWN: a live agent reconnects at
 * once (its backoff starts at 100 ms), while a dead one would otherwise be waited for the whole
 * heartbeat grace. A link that silently stops carrying traffic still takes the heartbeat grace.
 */
export const RECONNECT_GRACE_FACTOR = 2;

/**
 * After a dispatcher starts (a new leader), nodes get this many grace periods to reconnect
 * before they are DOWN: their agents first have to notice the old leader is gone and find the
 * new one, and marking healthy nodes down would make the orchestrator replace their tasks.
 */
export const STARTUP_GRACE_FACTOR = 2;

/**
 * ...and never less than this: with several managers an agent may first spend a session
 * attempt on a manager that is cut off, then on followers, before it reaches the new leader.
 */
export const STARTUP_GRACE_MIN_MS = 20_000;

/** The grace factor nodes get when a dispatcher starts. */
export function startupGraceFactor(periodMs: number): number {
  return Math.max(STARTUP_GRACE_FACTOR, STARTUP_GRACE_MIN_MS / heartbeatGraceMs(periodMs));
}

/** How long changes for a node are collected before one assignments message carries them all. */
export const ASSIGNMENT_BATCH_MS = 3;

/** How often a write that lost a version race is re-read and tried again. */
export const WRITE_ATTEMPTS = 5;

/** Status set on a node whose heartbeats stopped (Docker's wording). */
export const HEARTBEAT_FAILURE = 'heartbeat failure';

const NS_PER_MS = 1_000_000;

/** The heartbeat period the cluster spec asks for (nanoseconds there), else `fallbackMs`. */
export function heartbeatPeriodMs(cluster: Pick<Cluster, 'Spec'> | undefined, fallbackMs = DEFAULT_HEARTBEAT_PERIOD_MS): number {
  const ns = cluster?.Spec?.Dispatcher?.HeartbeatPeriod;
  if (typeof ns !== 'number' || !Number.isFinite(ns) || ns <= 0) return fallbackMs;
  return Math.max(1, Math.round(ns / NS_PER_MS));
}

/** How long a node may stay silent before it is DOWN. */
export function heartbeatGraceMs(periodMs: number): number {
  return periodMs * HEARTBEAT_GRACE_MULTIPLIER;
}
