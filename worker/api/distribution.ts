// Docker Engine API endpoints that talk to registries: image push and distribution inspect.
// (Pull is /images/create?fromImage=, served by the image routes with Distribution.pullFn.)
import type { ApiContext, Router } from '../../shared/api';
import { errorMessage } from '../../shared/errors';
import { logger } from '../../shared/log';
import type { Distribution, ProgressMessage } from '../engine/registry';

export interface DistributionRouteDeps {
  distribution: Distribution;
}

const log = logger('api.distribution');

/**
 * Stream progress messages as JSON lines. The first message decides the HTTP status: an error
 * before it is a plain error reply (the router turns the ShoalError into {"message"}); after it,
 * the error is the stream's last message.
 */
async function streamProgress(ctx: ApiContext, source: AsyncIterable<ProgressMessage>): Promise<void> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  const out = ctx.stream('application/json');
  try {
    for (let r = first; !r.done; r = await it.next()) {
      if (out.closed()) {
        await it.return?.();
        break;
      }
      out.writeJson(r.value);
    }
  } catch (e) {
    const message = errorMessage(e);
    log.warn({ err: message }, 'transfer failed mid-stream');
    if (!out.closed()) out.writeJson({ errorDetail: { message }, error: message });
  } finally {
    out.end();
  }
}

export function registerDistributionRoutes(router: Router, deps: DistributionRouteDeps): void {
  const { distribution } = deps;

  // docker push NAME[:TAG]: the CLI sends the name without the tag and ?tag= (empty: all tags).
  router.post('/images/:name*/push', async (ctx) => {
    const tag = ctx.query.str('tag') || undefined;
    const stream = distribution.push(ctx.params.name, tag, { auth: ctx.header('X-Registry-Auth'), signal: ctx.signal });
    await streamProgress(ctx, stream);
  });

  // docker manifest inspect / buildx imagetools use this: the descriptor and platforms of NAME.
  router.get('/distribution/:name*/json', async (ctx) => {
    ctx.json200(await distribution.inspect(ctx.params.name, { auth: ctx.header('X-Registry-Auth'), signal: ctx.signal }));
  });
}
