import { Router } from '../../shared/api';
import type { Engine } from '../engine/engine';
import { registerSystemRoutes } from './system';

/** Every engine endpoint of the Docker API, on one router. */
export function engineRouter(engine: Engine): Router {
  const router = new Router();
  registerSystemRoutes(router, { config: engine.config, events: engine.events, info: () => engine.info() });
  return router;
}
