import type { ApiContext } from './context';
import { errorMessage } from '../errors';
import type { Logger } from '../log';

/**
 * Stream docker progress messages as JSON lines (pull, push, import). The first message
 * decides the HTTP status: an error before it is a plain error reply; after it, the error is
 * the stream's last message ({"errorDetail"}), as dockerd writes it. A client that goes away
 * ends the source, so it runs its cleanup (an abandoned pull releases the blobs it holds).
 */
export async function streamProgress(ctx: ApiContext, source: AsyncIterable<object> | AsyncIterator<object>, log?: Logger): Promise<void> {
  const it = Symbol.asyncIterator in source ? (source as AsyncIterable<object>)[Symbol.asyncIterator]() : (source as AsyncIterator<object>);
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
    log?.warn({ err: message }, 'transfer failed mid-stream');
    if (!out.closed()) out.writeJson({ errorDetail: { message }, error: message });
  } finally {
    out.end();
  }
}
