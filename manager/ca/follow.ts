// What a manager's CA service needs to tell nodes what to hold: the cluster object (its CA)
// and the nodes (their desired roles, whether they still exist). One store watch per manager,
// open while at least one node watches its certificate state, shared by all of them.
import { logger, type Logger } from '../../shared/log';
import type { Node } from '../../shared/swarm';
import type { ClusterStore } from '../store';
import { systemClock } from '../leader/clock';
import { keepWatching } from '../leader/rewatch';
import { Wakeup } from '../dispatcher/wakeup';
import type { CACluster } from './state';

export interface CAView {
  cluster: CACluster | undefined;
  nodes: ReadonlyMap<string, Node>;
}

export class CAStateFollower {
  private cluster: CACluster | undefined;
  /** Read synchronously by subscribers when woken; changed in place. */
  private nodes = new Map<string, Node>();
  private readonly subscribers = new Set<Wakeup>();
  private ctl: AbortController | undefined;
  private loaded: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(
    private readonly store: ClusterStore,
    private readonly clusterId: string,
    log?: Logger,
  ) {
    this.log = (log ?? logger('ca')).child({ part: 'follow' });
  }

  /** The current view, then one after each change (changes in a burst may come as one), until `signal` aborts. */
  async *views(signal: AbortSignal): AsyncGenerator<CAView> {
    const wake = new Wakeup();
    this.subscribers.add(wake);
    try {
      await this.ensure(signal);
      if (signal.aborted) return;
      yield this.view();
      while (await wake.wait(signal)) yield this.view();
    } finally {
      this.subscribers.delete(wake);
      if (this.subscribers.size === 0) this.close();
    }
  }

  private view(): CAView {
    return { cluster: this.cluster, nodes: this.nodes };
  }

  private ensure(signal: AbortSignal): Promise<void> {
    if (!this.ctl) {
      const ctl = (this.ctl = new AbortController());
      let ready!: () => void;
      this.loaded = new Promise<void>((r) => (ready = r));
      ctl.signal.addEventListener('abort', () => ready(), { once: true });
      void keepWatching('CA watch', this.log, systemClock, ctl.signal, async (connected) => {
        const w = await this.store.watch(['cluster', 'nodes'], ctl.signal);
        connected();
        this.cluster = (w.snapshot.cluster ?? []).find((c) => c.ID === this.clusterId) as CACluster | undefined;
        this.nodes = new Map((w.snapshot.nodes ?? []).map((n) => [n.ID, n as Node]));
        ready();
        this.changed();
        for await (const ev of w.events) {
          if (ev.kind === 'cluster') {
            if (ev.id !== this.clusterId) continue;
            this.cluster = ev.type === 'put' ? (ev.object as CACluster) : undefined;
          } else if (ev.type === 'put') {
            this.nodes.set(ev.id, ev.object as Node);
          } else {
            this.nodes.delete(ev.id);
          }
          this.changed();
        }
      });
    }
    const loaded = this.loaded!;
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      void loaded.then(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private changed(): void {
    for (const w of this.subscribers) w.wake();
  }

  private close(): void {
    this.ctl?.abort();
    this.ctl = undefined;
    this.loaded = undefined;
  }
}
