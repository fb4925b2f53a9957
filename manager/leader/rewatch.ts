// Keeping a store watch open (DESIGN principle 3): when the stream ends or fails, watch again
// (a fresh snapshot), after a doubling back-off when it failed, until the signal aborts.
import { errorMessage } from '../../shared/errors';
import type { Logger } from '../../shared/log';
import { pause, type Clock } from './clock';

/**
 * Runs `session` over and over until `signal` aborts. A session opens a watch, calls
 * `connected()` once it has its snapshot (which resets the back-off), and consumes the events.
 */
export async function keepWatching(what: string, log: Logger, clock: Clock, signal: AbortSignal, session: (connected: () => void) => Promise<void>): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    try {
      await session(() => (failures = 0));
      if (!signal.aborted) log.warn(`${what} ended; re-listing`);
    } catch (e) {
      if (signal.aborted) break;
      failures++;
      if (failures === 1 || failures % 20 === 0) log.warn({ err: errorMessage(e), failures }, `${what} failed; retrying`);
      await pause(clock, Math.min(2000, 50 * 2 ** Math.min(failures, 6)), signal);
    }
  }
}
