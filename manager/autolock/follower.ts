// Each manager follows the cluster's autolock setting: when the unlock key appears, changes
// (unlock-key --rotate) or goes, it seals its own key files again. A manager that was down
// during a rotation is unlocked with the key it was sealed with and catches up here.
import type { DataKey } from '../../shared/crypto/seal';
import type { Logger } from '../../shared/log';
import { kekFor } from '../../shared/keys';
import type { ClusterStore } from '../store';
import { keepWatching } from '../leader/rewatch';
import { systemClock } from '../leader/clock';
import { unlockKeyOf, type AutolockCluster } from './cluster';

export interface AutolockFollowerOptions {
  store: ClusterStore;
  clusterId: string;
  stateDir: string;
  dataKey: () => DataKey | undefined;
  /** Seal this manager's key files with `kek` (undefined: in the clear). */
  reseal: (kek: DataKey | undefined) => Promise<void>;
  log: Logger;
}

export class AutolockFollower {
  constructor(private readonly o: AutolockFollowerOptions) {}

  /** Until `signal` aborts; a failed reseal is tried again from a fresh watch. */
  run(signal: AbortSignal): Promise<void> {
    return keepWatching('autolock watch', this.o.log, systemClock, signal, async (connected) => {
      const w = await this.o.store.watch(['cluster'], signal);
      connected();
      const c = (w.snapshot.cluster ?? []).find((x) => x.ID === this.o.clusterId);
      if (c) await this.apply(c as AutolockCluster);
      for await (const ev of w.events) {
        if (ev.kind === 'cluster' && ev.id === this.o.clusterId && ev.type === 'put') await this.apply(ev.object as AutolockCluster);
      }
    });
  }

  private async apply(c: AutolockCluster): Promise<void> {
    const dataKey = this.o.dataKey();
    if (!dataKey) return;
    const want = unlockKeyOf(c, dataKey);
    const have = kekFor(this.o.stateDir);
    if (want?.id === have?.id) return;
    await this.o.reseal(want);
    this.o.log.info({ unlockKey: want?.id ?? 'none', previous: have?.id ?? 'none' }, want ? "this manager's keys are now sealed with the swarm's unlock key" : "autolock is off: this manager's keys are kept in the clear");
  }
}
