import { promises as fs } from 'node:fs';
import { deleteLinks } from './links';

/** Interface names in this process's network namespace (/proc/self/net follows the netns, unlike /sys). */
export async function presentLinks(): Promise<Set<string>> {
  const text = await fs.readFile('/proc/self/net/dev', 'utf8');
  return new Set(text.split('\n').slice(2).map((l) => l.split(':')[0].trim()).filter(Boolean));
}

/**
 * Host veth ends of released namespaces. The kernel destroys a pair with its namespace, shortly
 * after the last user lets go; deleting pairs ourselves costs a process and ~30 ms each, so only
 * the ones still here after a grace period (a namespace something else still holds) get deleted.
 */
export class VethReaper {
  private readonly due = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly onError: (err: unknown) => void,
    private readonly graceMs = 2000,
  ) {}

  add(veths: string[]): void {
    const at = Date.now() + this.graceMs;
    for (const v of veths) if (!this.due.has(v)) this.due.set(v, at);
    this.arm();
  }

  /** Reap everything pending now, whatever its grace (close, tests). */
  async flush(): Promise<void> {
    await this.running;
    await this.reap(Infinity);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer || !this.due.size) return;
    const next = Math.min(...this.due.values());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.reap(Date.now())
        .catch(this.onError)
        .finally(() => {
          this.running = undefined;
          this.arm();
        });
    }, Math.max(0, next - Date.now()));
    this.timer.unref();
  }

  private async reap(now: number): Promise<void> {
    const ripe = [...this.due].filter(([, at]) => at <= now).map(([v]) => v);
    if (!ripe.length) return;
    for (const v of ripe) this.due.delete(v);
    const present = await presentLinks();
    await deleteLinks(ripe.filter((v) => present.has(v)));
  }
}
