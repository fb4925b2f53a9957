import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { DaemonConfig } from '../daemon/config';
import { EventBus } from '../../shared/events';
import { logger, type Logger } from '../../shared/log';
import { ImageStore } from './images';
import { Distribution } from './registry';
import { VolumeStore } from './volumes';
import { NetworkManager, type ContainerLookup } from '../network';
import { ContainerManager } from './containers';
import { Builder } from './build';
import { imageStorePort, containerManagerPort } from './build/adapters';

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
    readonly containers: ContainerManager,
    readonly builder: Builder,
  ) {}

  static async open(config: DaemonConfig): Promise<Engine> {
    await fs.mkdir(config.dataRoot, { recursive: true, mode: 0o711 });
    await fs.mkdir(config.execRoot, { recursive: true, mode: 0o711 });
    const events = new EventBus();
    const images = await ImageStore.open({ root: join(config.dataRoot, 'image'), events });
    const distribution = new Distribution({ store: images, insecureRegistries: config.insecureRegistries ?? [] });
    const volumes = await VolumeStore.open({ root: join(config.dataRoot, 'volumes'), events });
    const networks = await NetworkManager.open({ config, root: join(config.dataRoot, 'network'), events });
    const containers = await ContainerManager.open({ config, images, networking: networks, volumes, events });
    images.setInUseCheck(async (imageId) => (await containers.imagesInUse()).get(imageId) ?? []);
    const builder = await Builder.open({ images: imageStorePort(images), containers: containerManagerPort(containers) }, { root: join(config.dataRoot, 'build'), events });
    return new Engine(config, events, images, distribution, volumes, networks, containers, builder);
  }

  /** Resolves a container for the network routes (connect, disconnect). */
  get containerLookup(): ContainerLookup {
    return {
      resolve: async (ref) => {
        const j = (await this.containers.inspect(ref)) as { Id: string; Name: string; State: { Running: boolean } };
        return { id: j.Id, name: j.Name.replace(/^\//, ''), running: j.State.Running };
      },
    };
  }

  async info(): Promise<Record<string, unknown>> {
    return { Images: this.images.summaries().length, ...(await this.containers.info()) };
  }

  async close(): Promise<void> {
    // Containers keep running: their monitors hold them, and the next daemon adopts them.
    await this.containers.close();
    await this.networks.close();
  }
}
