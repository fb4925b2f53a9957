import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { DaemonConfig } from '../daemon/config';
import { EventBus } from '../../shared/events';
import { logger, type Logger } from '../../shared/log';
import { ImageStore } from './images';
import { Distribution } from './registry';
import { VolumeStore } from './volumes';
import { NetworkManager } from '../network';

/**
 * The container engine every node embeds: it owns the image store, volumes, networks,
 * containers and the builder, and opens them in dependency order.
 */
export class Engine {
  readonly log: Logger = logger('engine');

  private constructor(
    readonly config: DaemonConfig,
    readonly events: EventBus,
    readonly images: ImageStore,
    readonly distribution: Distribution,
    readonly volumes: VolumeStore,
    readonly networks: NetworkManager,
  ) {}

  static async open(config: DaemonConfig): Promise<Engine> {
    await fs.mkdir(config.dataRoot, { recursive: true, mode: 0o711 });
    await fs.mkdir(config.execRoot, { recursive: true, mode: 0o711 });
    const events = new EventBus();
    const images = await ImageStore.open({ root: join(config.dataRoot, 'image'), events });
    const distribution = new Distribution({ store: images, insecureRegistries: [] });
    const volumes = await VolumeStore.open({ root: join(config.dataRoot, 'volumes'), events });
    const networks = await NetworkManager.open({ config, root: join(config.dataRoot, 'network'), events });
    return new Engine(config, events, images, distribution, volumes, networks);
  }

  async info(): Promise<Record<string, unknown>> {
    return { Images: this.images.summaries().length };
  }

  async close(): Promise<void> {
    // Containers keep running: their monitors hold them, and the next daemon adopts them.
    await this.networks.close();
  }
}
