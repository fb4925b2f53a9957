import type { Router } from '../../shared/api';
import { invalid, notFound } from '../../shared/errors';
import type { EndpointSettings, NetworkSetupResult } from '../engine/contracts';
import type { ContainerLookup, NetworkManager, NetworkCreateRequest } from '../network';
import type { ClusterNetworks } from '../../manager/networks/api';
import { isShoalError } from '../../shared/errors';

export interface NetworkRouteDeps {
  networks: NetworkManager;
  containerLookup?: ContainerLookup;
  /** Told after connect/disconnect changed a container's networking (to update its inspect data and /etc/hosts). */
  onEndpointsChanged?: (containerId: string, result: NetworkSetupResult) => Promise<void>;
  /** The swarm's networks, listed beside the local ones (on a manager). */
  cluster?: ClusterNetworks;
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

  const { cluster } = deps;
  /** Local first, as dockerd looks; NOT_FOUND from the local side lets the swarm's answer. */
  async function localOr<T>(local: () => T | Promise<T>, swarm: () => Promise<T | undefined>): Promise<T> {
    try {
      return await local();
    } catch (e) {
      if (!cluster || !isShoalError(e, 'NOT_FOUND')) throw e;
      const found = await swarm();
      if (found === undefined) throw e;
      return found;
    }
  }

  router.get('/networks', async (ctx) => {
    const filters = ctx.query.filters();
    const local = networks.listNetworks(filters);
    ctx.json200(cluster ? [...local, ...(await cluster.list(filters))] : local);
  });

  router.get('/networks/:id', async (ctx) => {
    const scope = ctx.query.str('scope');
    const id = ctx.params.id;
    if (scope === 'swarm') {
      const n = await cluster?.find(id);
      if (!n) throw notFound(`network ${id} not found`);
      ctx.json200(n);
      return;
    }
    if (scope && scope !== 'local') throw notFound(`network ${id} not found`);
    ctx.json200(scope === 'local' || !cluster ? networks.inspectNetwork(id) : await localOr(() => networks.inspectNetwork(id), () => cluster.find(id)));
  });

  router.post('/networks/create', async (ctx) => {
    const body = await ctx.json<NetworkCreateRequest>();
    if (!isObject(body)) throw invalid('invalid network config: expected a JSON object');
    if (cluster?.wants(body)) {
      ctx.send(201, await cluster.create(body));
      return;
    }
    ctx.send(201, await networks.createNetwork(body));
  });

  router.delete('/networks/:id', async (ctx) => {
    const id = ctx.params.id;
    try {
      await networks.removeNetwork(id);
    } catch (e) {
      if (!cluster || !isShoalError(e, 'NOT_FOUND') || !(await cluster.remove(id))) throw e;
    }
    ctx.noContent();
  });

  router.post('/networks/prune', async (ctx) => {
    ctx.json200({ NetworksDeleted: await networks.pruneNetworks(ctx.query.filters()) });
  });

  router.post('/networks/:id/connect', async (ctx) => {
    const body = await ctx.json<{ Container?: string; EndpointConfig?: EndpointSettings | null }>();
    if (!isObject(body)) throw invalid('invalid request: expected a JSON object');
    if (body.EndpointConfig !== undefined && body.EndpointConfig !== null && !isObject(body.EndpointConfig)) throw invalid('invalid EndpointConfig: expected an object');
    // A swarm network the node is not on yet is found by the cluster, through the network manager.
    const c = await container(body.Container);
    const result = await networks.connect(c.id, ctx.params.id, body.EndpointConfig ?? {}, { running: c.running, name: c.name });
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
