// The controller's decision: given the task's observed state, what the orchestrator wants
// (DesiredState) and what the engine shows of the container, the one next step. Pure, so the
// whole table is unit-tested; the controller only performs the step it is given.
import { isTerminal, stateRank, type EndpointPortConfig, type TaskState } from '../../../shared/swarm';
import type { ContainerRecord } from '../../engine/containers';
import { probeCommand } from '../../engine/containers/health';
import { hostModePorts, portKey } from './config';
import type { AgentTask } from './types';

/** The task's container as the engine shows it; `undefined` when there is none. */
export interface Observed {
  id: string;
  status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  pid: number;
  exitCode: number;
  /** 'none' when the container has no health check. */
  health: 'none' | 'starting' | 'healthy' | 'unhealthy';
}

export type Step =
  /** Status-only move (ASSIGNED->ACCEPTED, ACCEPTED->PREPARING, READY->STARTING). */
  | { kind: 'advance'; to: TaskState; message: string }
  /** PREPARING: pull the image if missing, create the container; then READY. */
  | { kind: 'prepare' }
  /** STARTING: start the container; RUNNING once it runs (and is healthy, if checked). */
  | { kind: 'start' }
  /** STARTING, running and healthy (or unchecked): report RUNNING. */
  | { kind: 'running' }
  /** The container ended: COMPLETE or FAILED. */
  | { kind: 'exited' }
  /** The health check failed: stop the container, then FAILED. */
  | { kind: 'unhealthy' }
  /** The container is gone while the task was alive: FAILED. */
  | { kind: 'lost' }
  /** Desired SHUTDOWN (or REMOVE): stop the container if it runs; SHUTDOWN unless already terminal. */
  | { kind: 'shutdown' }
  /** Desired REMOVE, or no longer assigned: remove the container (stopped first by 'shutdown'). */
  | { kind: 'remove' }
  /** Nothing to do until something changes (the container, DesiredState, a resync). */
  | { kind: 'wait' }
  /** Removed and no longer assigned: the controller ends. */
  | { kind: 'done' };

const RUNNING_STATES: ReadonlySet<Observed['status']> = new Set(['running', 'paused', 'restarting']);

export function isAlive(o: Observed | undefined): boolean {
  return !!o && RUNNING_STATES.has(o.status);
}

/** DesiredState SHUTDOWN or REMOVE: the orchestrator wants the task gone. */
export function wantsGone(desired: TaskState): boolean {
  return stateRank(desired) >= stateRank('shutdown');
}

/**
 * The next step. `assigned` is false once the task left this node's assignment set; then
 * its container goes, as with DesiredState REMOVE.
 */
export function nextStep(state: TaskState, desired: TaskState, observed: Observed | undefined, assigned = true): Step {
  const remove = desired === 'remove' || !assigned;
  if (remove || wantsGone(desired)) {
    if (isAlive(observed)) return { kind: 'shutdown' };
    if (!isTerminal(state)) return { kind: 'shutdown' };
    if (remove && observed) return { kind: 'remove' };
    return assigned ? { kind: 'wait' } : { kind: 'done' };
  }
  if (isTerminal(state)) return { kind: 'wait' };
  switch (state) {
    case 'new':
    case 'allocated':
    case 'pending':
    case 'assigned':
      return { kind: 'advance', to: 'accepted', message: 'accepted' };
    case 'accepted':
      return { kind: 'advance', to: 'preparing', message: 'preparing' };
    case 'preparing':
      return { kind: 'prepare' };
    case 'ready':
      // DesiredState READY holds a task prepared but not started (start-first updates).
      return desired === 'ready' ? { kind: 'wait' } : { kind: 'advance', to: 'starting', message: 'starting' };
    case 'starting':
      if (!observed || observed.status === 'created') return { kind: 'start' };
      if (isAlive(observed)) {
        if (observed.health === 'unhealthy') return { kind: 'unhealthy' };
        if (observed.health === 'starting') return { kind: 'wait' };
        return { kind: 'running' };
      }
      return observed.status === 'removing' ? { kind: 'lost' } : { kind: 'exited' };
    case 'running':
      if (!observed || observed.status === 'removing') return { kind: 'lost' };
      if (isAlive(observed)) return observed.health === 'unhealthy' ? { kind: 'unhealthy' } : { kind: 'wait' };
      if (observed.status === 'created') return { kind: 'lost' };
      return { kind: 'exited' };
    default:
      return { kind: 'wait' };
  }
}

/** What the engine's record says about the container, for nextStep. */
export function observe(r: ContainerRecord): Observed {
  const checked = probeCommand(r.Config.Healthcheck, r.Config.Shell ?? undefined) !== undefined;
  return {
    id: r.Id,
    status: r.State.Status,
    pid: r.State.Pid,
    exitCode: r.State.ExitCode,
    health: checked ? (r.State.Health?.Status ?? 'starting') : 'none',
  };
}

/** Swarm's error for a task whose container ended badly. */
export function exitError(code: number, unhealthy = false): string {
  return `task: non-zero exit (${code})${unhealthy ? ': unhealthy container' : ''}`;
}

/** Host-mode ports as published on this node (the engine picks the port when none was asked for). */
export function portStatusOf(task: AgentTask, r: ContainerRecord): EndpointPortConfig[] {
  const out: EndpointPortConfig[] = [];
  for (const p of hostModePorts(task)) {
    const bound = r.NetworkSettings.Ports?.[portKey(p)]?.[0]?.HostPort;
    const published = bound ? Number(bound) : p.PublishedPort;
    out.push({ ...p, Protocol: p.Protocol ?? 'tcp', ...(published ? { PublishedPort: published } : {}) });
  }
  return out;
}
