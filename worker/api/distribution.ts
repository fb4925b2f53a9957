// Docker Engine API endpoints that talk to registries: image push and distribution inspect.
// (Pull is /images/create?fromImage=, served by the image routes with Distribution.pullFn.)
import { streamProgress, type Router } from '../../shared/api';
import { logger } from '../../shared/log';
import type { Distribution } from '../engine/registry';

export interface DistributionRouteDeps {
  distribution: Distribution;
}

const log = logger('api.distribution');

export function registerDistributionRoutes(router: Router, deps: DistributionRouteDeps): void {
  const { distribution } = deps;

  // docker push NAME[:TAG]: the CLI sends the name without the tag and ?tag= (empty: all tags).
  router.post('/images/:name*/push', async (ctx) => {
    const tag = ctx.query.str('tag') || undefined;
    const stream = distribution.push(ctx.params.name, tag, { auth: ctx.header('X-Registry-Auth'), signal: ctx.signal });
    await streamProgress(ctx, stream, log);
  });

  // docker manifest inspect / buildx imagetools use this: the descriptor and platforms of NAME.
  router.get('/distribution/:name*/json', async (ctx) => {
    ctx.json200(await distribution.inspect(ctx.params.name, { auth: ctx.header('X-Registry-Auth'), signal: ctx.signal }));
  });
}
