import { EventEmitter, on } from 'node:events';

/** A Docker /events message. */
export interface EngineEvent {
  Type: 'container' | 'image' | 'network' | 'volume' | 'daemon' | 'service' | 'node' | 'secret' | 'config';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local' | 'swarm';
  time: number;
  timeNano: number;
}

/** In-process event fan-out; the cluster bus (NATS) subscribes to it on managers and workers. */
export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly recent: EngineEvent[] = [];

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}, scope: EngineEvent['scope'] = 'local'): void {
    const now = Date.now();
    const ev: EngineEvent = { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope, time: Math.floor(now / 1000), timeNano: now * 1e6 };
    this.recent.push(ev);
    if (this.recent.length > 1000) this.recent.shift();
    this.emitter.emit('event', ev);
  }

  /** Past events since `sinceMs` (kept in memory, the last 1000). */
  history(sinceMs: number, untilMs = Infinity): EngineEvent[] {
    return this.recent.filter((e) => e.timeNano / 1e6 >= sinceMs && e.timeNano / 1e6 <= untilMs);
  }

  /** Live events until the signal aborts. */
  async *subscribe(signal: AbortSignal): AsyncIterable<EngineEvent> {
    try {
      for await (const [ev] of on(this.emitter, 'event', { signal })) yield ev as EngineEvent;
    } catch (e) {
      if ((e as Error).name !== 'AbortError') throw e;
    }
  }
}
