// The managers an agent can open its session with: the configured list at first, then the
// list each session message carries, heaviest first, with the managers known before but not
// named now kept at the end: the dispatcher names only the managers reachable at the time, and
// one that is down for a while must not be forgotten (after a failover it may be the only one
// left). The agent moves past a manager that failed, so a dead one costs one attempt.
import { invalid } from '../../../shared/errors';
import type { WeightedPeer } from '../../../shared/rpc';

export class ManagerList {
  private addrs: string[];
  private cursor = 0;

  constructor(initial: string[]) {
    this.addrs = [...new Set(initial.filter((a) => a !== ''))];
    if (this.addrs.length === 0) throw invalid('managers: at least one manager address (host:port) is needed');
  }

  /** The manager to try now. */
  current(): string {
    return this.addrs[this.cursor % this.addrs.length];
  }

  /** The current manager failed (or ended the session): the next one is tried next. */
  failed(addr: string): void {
    if (this.current() === addr) this.cursor = (this.cursor + 1) % this.addrs.length;
  }

  /** The list from a session message, then the others known; an empty list changes nothing. */
  update(peers: WeightedPeer[], connectedTo?: string): void {
    const named = [...new Set([...peers].sort((a, b) => b.weight - a.weight).map((p) => p.addr).filter((a) => a !== ''))];
    if (named.length === 0) return;
    const addrs = [...new Set([...named, ...this.addrs])];
    this.addrs = addrs;
    // Stay on the manager we are talking to when it is still listed.
    const at = connectedTo === undefined ? -1 : addrs.indexOf(connectedTo);
    this.cursor = at >= 0 ? at : 0;
  }

  list(): string[] {
    return [...this.addrs];
  }
}

/** Reconnection delay after `failures` failed attempts in a row: exponential, capped, with jitter (half fixed, half random). */
export function backoffMs(failures: number, opts: { initialMs: number; maxMs: number }, random: () => number = Math.random): number {
  if (failures <= 0) return 0;
  const base = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(base / 2 + (base / 2) * random());
}
