import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../../shared/fsutil';
import { logger } from '../../../shared/log';
import type { HealthConfig } from '../contracts';
import type { OciProcess } from '../runtime/spec';
import type { HealthLogEntry, HealthState } from './types';

export const DEFAULT_INTERVAL_MS = 30_000;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_START_INTERVAL_MS = 5_000;
export const DEFAULT_RETRIES = 3;
const MAX_LOG_ENTRIES = 5;

/** The probe command, or undefined when there is no check (none, or NONE). */
export function probeCommand(h: HealthConfig | undefined, shell: string[] = ['/bin/sh', '-c']): string[] | undefined {
  const t = h?.Test;
  if (!t || t.length === 0 || t[0] === 'NONE') return undefined;
  if (t[0] === 'CMD') return t.length > 1 ? t.slice(1) : undefined;
  if (t[0] === 'CMD-SHELL') return t.length > 1 ? [...shell, t.slice(1).join(' ')] : undefined;
  return undefined;
}

export interface ProbeResult {
  exitCode: number;
  output: string;
  start: Date;
  end: Date;
}

/**
 * Fold one probe result into the health state (Docker's rules): success makes it healthy
 * and resets the streak; a failure during the start period does not count; otherwise the
 * streak grows and reaching `retries` makes it unhealthy.
 */
export function applyProbe(state: HealthState, r: ProbeResult, opts: { retries: number; inStartPeriod: boolean }): HealthState {
  const entry: HealthLogEntry = { Start: r.start.toISOString(), End: r.end.toISOString(), ExitCode: r.exitCode, Output: r.output };
  const log = [...state.Log, entry].slice(-MAX_LOG_ENTRIES);
  if (r.exitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log: log };
  if (opts.inStartPeriod && state.Status === 'starting') return { ...state, Log: log };
  const streak = state.FailingStreak + 1;
  return { Status: streak >= opts.retries ? 'unhealthy' : state.Status, FailingStreak: streak, Log: log };
}

export interface HealthHost {
  /** Run a process in the container, collecting output, killed after timeoutMs. */
  execCollect(processFile: string, pidFile: string, timeoutMs: number, signal: AbortSignal): Promise<{ code: number; output: string; timedOut: boolean }>;
  process(args: string[]): OciProcess;
  /** Where probe files live (per container). */
  dir: string;
  state(): HealthState | undefined;
  update(h: HealthState, changed: boolean): Promise<void>;
}

/** Runs a container's health check on its schedule while it runs. */
export class HealthMonitor {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private inflight?: Promise<void>;
  private readonly abort = new AbortController();
  private readonly started = Date.now();
  private readonly log = logger('health');

  constructor(
    private readonly cfg: HealthConfig,
    private readonly cmd: string[],
    private readonly host: HealthHost,
  ) {}

  private ms(ns: number | undefined, dflt: number): number {
    return ns && ns > 0 ? Math.max(1, Math.round(ns / 1e6)) : dflt;
  }

  start(): void {
    // The first probe comes one interval (or start interval) after start, as in Docker.
    this.schedule(this.inStartPeriod() ? this.ms(this.cfg.StartInterval, DEFAULT_START_INTERVAL_MS) : this.ms(this.cfg.Interval, DEFAULT_INTERVAL_MS));
  }

  /**
   * Stop probing; a probe under way is killed and waited for, so no runtime exec is left to
   * touch the container (and recreate its cgroup) after it is gone.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort();
    await this.inflight;
  }

  private inStartPeriod(): boolean {
    const sp = this.ms(this.cfg.StartPeriod, 0);
    return sp > 0 && Date.now() - this.started < sp;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.inflight = this.probe().finally(() => (this.inflight = undefined));
    }, ms);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    if (this.stopped) return;
    const timeout = this.ms(this.cfg.Timeout, DEFAULT_TIMEOUT_MS);
    const start = new Date();
    let result: ProbeResult;
    try {
      await fs.mkdir(this.host.dir, { recursive: true });
      const file = join(this.host.dir, 'health-process.json');
      const pidFile = join(this.host.dir, 'health.pid');
      await fs.rm(pidFile, { force: true });
      await writeJsonAtomic(file, this.host.process(this.cmd));
      const r = await this.host.execCollect(file, pidFile, timeout, this.abort.signal);
      result = r.timedOut
        ? { exitCode: -1, output: `Health check exceeded timeout (${timeout / 1000}s)`, start, end: new Date() }
        : { exitCode: r.code, output: r.output, start, end: new Date() };
    } catch (e) {
      result = { exitCode: -1, output: (e as Error).message, start, end: new Date() };
    }
    if (this.stopped) return;
    const before = this.host.state() ?? { Status: 'starting', FailingStreak: 0, Log: [] };
    const inStart = this.inStartPeriod();
    const after = applyProbe(before, result, { retries: this.cfg.Retries && this.cfg.Retries > 0 ? this.cfg.Retries : DEFAULT_RETRIES, inStartPeriod: inStart });
    try {
      await this.host.update(after, after.Status !== before.Status);
    } catch (e) {
      this.log.warn({ err: e }, 'cannot record health state');
    }
    const next = after.Status === 'starting' && this.inStartPeriod() ? this.ms(this.cfg.StartInterval, DEFAULT_START_INTERVAL_MS) : this.ms(this.cfg.Interval, DEFAULT_INTERVAL_MS);
    this.schedule(next);
  }
}
