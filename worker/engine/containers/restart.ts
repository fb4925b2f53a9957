import type { RestartPolicy } from './types';

/** Docker's restart manager: 100 ms, doubling per restart, capped at one minute. */
export const BACKOFF_INITIAL_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
/** A container that ran this long counts as healthy again: its backoff starts over. */
export const BACKOFF_RESET_AFTER_MS = 10_000;

export interface ExitFacts {
  policy: RestartPolicy;
  exitCode: number;
  /** Restarts done so far (inspect RestartCount). */
  restartCount: number;
  /** The user stopped or killed it (docker stop/kill): no restart for this exit. */
  stoppedByUser: boolean;
  /** How long this run lasted. */
  ranForMs: number;
  /** The backoff used before the last restart (0 before any). */
  lastBackoffMs: number;
  daemonShuttingDown: boolean;
}

export type RestartDecision = { restart: false; reason: string } | { restart: true; delayMs: number };

/** Whether, and after how long, an exited container restarts under its policy. */
export function decideRestart(f: ExitFacts): RestartDecision {
  const name = f.policy.Name || 'no';
  if (name === 'no') return { restart: false, reason: 'restart policy is no' };
  if (f.stoppedByUser) return { restart: false, reason: 'stopped by the user' };
  if (f.daemonShuttingDown) return { restart: false, reason: 'daemon is shutting down' };
  if (name === 'on-failure') {
    if (f.exitCode === 0) return { restart: false, reason: 'exited successfully' };
    const max = f.policy.MaximumRetryCount;
    if (max > 0 && f.restartCount >= max) return { restart: false, reason: `reached the maximum of ${max} restarts` };
  }
  return { restart: true, delayMs: nextBackoff(f.lastBackoffMs, f.ranForMs) };
}

export function nextBackoff(lastMs: number, ranForMs: number): number {
  if (lastMs <= 0 || ranForMs >= BACKOFF_RESET_AFTER_MS) return BACKOFF_INITIAL_MS;
  return Math.min(lastMs * 2, BACKOFF_MAX_MS);
}

/**
 * Whether a container comes back when the daemon starts: `always` unless it is running
 * already, `unless-stopped` unless the user stopped it.
 */
export function restartOnDaemonStart(policy: RestartPolicy, manuallyStopped: boolean, hasBeenStarted: boolean): boolean {
  if (!hasBeenStarted) return false;
  if (policy.Name === 'always') return true;
  if (policy.Name === 'unless-stopped') return !manuallyStopped;
  return false;
}
