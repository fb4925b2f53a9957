import { promises as fs } from 'node:fs';
import type { DaemonConfig } from '../daemon/config';
import { EventBus } from '../../shared/events';
import { logger, type Logger } from '../../shared/log';

/**
 * The container engine every node embeds: it owns the image store, volumes, networks,
 * containers and the builder, and opens them in dependency order.
 */
export class Engine {
  readonly events = new EventBus();
  readonly log: Logger;

  private constructor(readonly config: DaemonConfig) {
    this.log = logger('engine');
  }

  static async open(config: DaemonConfig): Promise<Engine> {
    await fs.mkdir(config.dataRoot, { recursive: true, mode: 0o711 });
    await fs.mkdir(config.execRoot, { recursive: true, mode: 0o711 });
    return new Engine(config);
  }

  async info(): Promise<Record<string, unknown>> {
    return {};
  }

  async close(): Promise<void> {
    // Containers keep running: their monitors hold them, and the next daemon adopts them.
  }
}
