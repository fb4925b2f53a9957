// One etcd watch stream from a start revision, as an async iterable of responses. It ends with an
// error when the stream breaks (the caller resumes from the last revision it saw) or with
// Compacted when etcd no longer has that revision (the caller re-lists). etcd3's own Watcher
// is not used: on reconnect it resumes from the revision in the 'created' header rather than
// from the last event delivered, which can skip events after two quick disconnects.
import type { Etcd3, IWatchResponse } from 'etcd3';
import { ShoalError, unavailable } from '../../shared/errors';
import { translateEtcdError } from '../etcd';
import { AsyncQueue } from '../../shared/queue';

export class Compacted extends ShoalError {
  constructor(readonly compactRevision: number) {
    super('FAILED_PRECONDITION', `watch history compacted up to revision ${compactRevision}`);
  }
}

export async function* watchResponses(client: Etcd3, range: { start: string; end: string }, startRevision: number, signal: AbortSignal): AsyncIterable<IWatchResponse> {
  if (signal.aborted) return;
  let stream;
  try {
    stream = await client.watchClient.watch();
  } catch (e) {
    throw translateEtcdError(e, 'watch');
  }
  const queue = new AsyncQueue<IWatchResponse>();
  stream
    .on('data', (res: IWatchResponse) => queue.push(res))
    .on('error', (e: Error) => queue.end(translateEtcdError(e, 'watch')))
    .on('end', () => queue.end(unavailable('watch: the stream ended')));
  const onAbort = () => queue.end();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    stream.write({
      create_request: {
        key: Buffer.from(range.start),
        range_end: Buffer.from(range.end),
        start_revision: startRevision,
        prev_kv: true, // a delete event then carries the object it removed
        progress_notify: true, // lets an idle watch advance its resume revision
      },
    });
    for await (const res of queue) {
      if (res.canceled) {
        const compacted = Number(res.compact_revision);
        if (compacted > 0) throw new Compacted(compacted);
        throw unavailable(`watch cancelled by etcd: ${res.cancel_reason || 'no reason given'}`);
      }
      yield res;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    queue.end();
    stream.cancel();
  }
}
