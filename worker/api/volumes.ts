import type { Router } from '../../shared/api';
import { invalid } from '../../shared/errors';
import type { VolumeCreateRequest, VolumeStore } from '../engine/volumes';

export function registerVolumeRoutes(router: Router, deps: { volumes: VolumeStore }): void {
  const { volumes } = deps;

  router.post('/volumes/create', async (ctx) => {
    const body = await ctx.json<VolumeCreateRequest>();
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('invalid volume config: expected a JSON object');
    ctx.send(201, await volumes.create(body));
  });

  router.get('/volumes', (ctx) => {
    ctx.json200(volumes.list(ctx.query.filters()));
  });

  router.post('/volumes/prune', async (ctx) => {
    ctx.json200(await volumes.prune(ctx.query.filters()));
  });

  router.get('/volumes/:name', (ctx) => {
    ctx.json200(volumes.inspect(ctx.params.name));
  });

  router.delete('/volumes/:name', async (ctx) => {
    await volumes.remove(ctx.params.name, ctx.query.bool('force'));
    ctx.noContent();
  });
}
