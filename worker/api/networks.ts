import type { Router } from '../../shared/api';
import { invalid, notFound } from '../../shared/errors';
import type { EndpointSettings, NetworkSetupResult } from '../engine/contracts';
import type { ContainerLookup, NetworkManager, NetworkCreateRequest } from '../network';

export interface NetworkRouteDeps {
  networks: NetworkManager;
  containerLookup?: ContainerLookup;
  /** Told after connect/disconnect changed a container's networking (to update its inspect data and /etc/hosts). */
  onEndpointsChanged?: (containerId: string, result: NetworkSetupResult) => Promise<void>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function registerNetworkRoutes(router: Router, deps: NetworkRouteDeps): void {
  const { networks } = deps;

  async function container(ref: unknown): Promise<{ id: string; name: string; running?: boolean }> {
    if (typeof ref !== 'string' || !ref) throw invalid('Container is required');
    if (deps.containerLookup) return deps.containerLookup.resolve(ref);
    const rec = await networks.inspectEndpoints(ref);
    if (!rec) throw notFound(`No such container: ${ref}`);
    return { id: ref, name: ref };
  }

  router.get('/networks', (ctx) => {
    ctx.json200(networks.listNetworks(ctx.query.filters()));
  });

  router.get('/networks/:id', (ctx) => {
    const scope = ctx.query.str('scope');
    if (scope && scope !== 'local') throw notFound(`network ${ctx.params.id} not found`);
    ctx.json200(networks.inspectNetwork(ctx.params.id));
  });

  router.post('/networks/create', async (ctx) => {
    const body = await ctx.json<NetworkCreateRequest>();
    if (!isObject(body)) throw invalid('invalid network config: expected a JSON object');
    ctx.send(201, await networks.createNetwork(body));
  });

  router.delete('/networks/:id', async (ctx) => {
    await networks.removeNetwork(ctx.params.id);
    ctx.noContent();
  });

  router.post('/networks/prune', async (ctx) => {
    ctx.json200({ NetworksDeleted: await networks.pruneNetworks(ctx.query.filters()) });
  });

  router.post('/networks/:id/connect', async (ctx) => {
    const body = await ctx.json<{ Container?: string; EndpointConfig?: EndpointSettings | null }>();
    if (!isObject(body)) throw invalid('invalid request: expected a JSON object');
    if (body.EndpointConfig !== undefined && body.EndpointConfig !== null && !isObject(body.EndpointConfig)) throw invalid('invalid EndpointConfig: expected an object');
    const net = networks.resolveNetwork(ctx.params.id);
    const c = await container(body.Container);
    const result = await networks.connect(c.id, net.id, body.EndpointConfig ?? {}, { running: c.running, name: c.name });
    await deps.onEndpointsChanged?.(c.id, result);
    ctx.send(200);
  });

  router.post('/networks/:id/disconnect', async (ctx) => {
    const body = await ctx.json<{ Container?: string; Force?: boolean }>();
    if (!isObject(body)) throw invalid('invalid request: expected a JSON object');
    const net = networks.resolveNetwork(ctx.params.id);
    let id: string;
    try {
      id = (await container(body.Container)).id;
    } catch (e) {
      // Force cleans up after a container that no longer exists, by the ID given.
      if (!body.Force || typeof body.Container !== 'string') throw e;
      id = body.Container;
    }
    const result = await networks.disconnect(id, net.id, !!body.Force);
    await deps.onEndpointsChanged?.(id, result);
    ctx.send(200);
  });
}
