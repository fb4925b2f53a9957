import { Router } from '../../shared/api';
import type { Engine } from '../engine/engine';
import { registerSystemRoutes } from './system';
import { registerImageRoutes } from './images';
import { registerDistributionRoutes } from './distribution';
import { registerNetworkRoutes } from './networks';
import type { ClusterNetworks } from '../../manager/networks/api';
import { registerVolumeRoutes } from './volumes';
import { registerContainerRoutes } from './containers';
import { registerExecRoutes } from './exec';
import { registerBuildRoutes } from './build';

/** Every engine endpoint of the Docker API, on one router. */
export function engineRouter(engine: Engine, over: { info?: () => Promise<Record<string, unknown>>; clusterNetworks?: ClusterNetworks } = {}): Router {
  const router = new Router();
  registerSystemRoutes(router, { config: engine.config, events: engine.events, info: over.info ?? (() => engine.info()) });
  registerImageRoutes(router, { images: engine.images, events: engine.events, pull: engine.distribution.pullFn });
  registerDistributionRoutes(router, { distribution: engine.distribution });
  registerNetworkRoutes(router, {
    networks: engine.networks,
    containerLookup: engine.containerLookup,
    onEndpointsChanged: (id, net) => engine.containers.networksChanged(id, net),
    cluster: over.clusterNetworks,
  });
  registerContainerRoutes(router, { containers: engine.containers });
  registerExecRoutes(router, { containers: engine.containers });
  registerBuildRoutes(router, { builder: engine.builder });
  registerVolumeRoutes(router, { volumes: engine.volumes });
  return router;
}
