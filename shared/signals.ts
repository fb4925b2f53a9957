/**
 * A signal that aborts when any parent does or after `ms`. The pending timer holds the
 * controller, so the deadline always fires: an AbortSignal.timeout() inside AbortSignal.any()
 * is held only weakly on Node 20 and can be collected before it fires, leaving the combined
 * signal never aborting. Call clear() when done, to drop the timer and the listeners.
 */
export function withDeadline(ms: number, ...parents: Array<AbortSignal | undefined>): { signal: AbortSignal; clear(): void } {
  const ac = new AbortController();
  const live = parents.filter((p): p is AbortSignal => !!p);
  const onAbort = (e: Event) => ac.abort((e.target as AbortSignal).reason);
  const timer = setTimeout(() => ac.abort(new DOMException('The operation timed out', 'TimeoutError')), Math.max(0, ms));
  const clear = () => {
    clearTimeout(timer);
    for (const p of live) p.removeEventListener('abort', onAbort);
  };
  for (const p of live) {
    if (p.aborted) ac.abort(p.reason);
    else p.addEventListener('abort', onAbort, { once: true });
  }
  ac.signal.addEventListener('abort', clear, { once: true });
  return { signal: ac.signal, clear };
}
