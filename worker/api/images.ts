// Docker Engine API image endpoints over the image store.
import type { Readable } from 'node:stream';
import { streamProgress, type Router, type ApiContext } from '../../shared/api';
import type { EventBus } from '../../shared/events';
import { invalid, notImplemented, errorMessage } from '../../shared/errors';
import { logger } from '../../shared/log';
import { loadArchive, saveArchive, type ImageStore, type PullFn } from '../engine/images';

export interface ImageRouteDeps {
  images: ImageStore;
  events: EventBus;
  pull?: PullFn;
}

const log = logger('api.images');

async function importFromUrl(url: string, signal: AbortSignal): Promise<Readable> {
  let u: URL;
  try {
    u = new URL(url.includes('://') ? url : `http://${url}`);
  } catch {
    throw invalid(`invalid fromSrc URL '${url}'`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid(`unsupported fromSrc URL scheme '${u.protocol}'`);
  const res = await fetch(u, { signal }).catch((e: unknown) => {
    throw invalid(`cannot download ${url}: ${errorMessage(e)}`);
  });
  if (!res.ok || !res.body) throw invalid(`cannot download ${url}: HTTP ${res.status}`);
  const { Readable: R } = await import('node:stream');
  return R.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
}

export function registerImageRoutes(router: Router, deps: ImageRouteDeps): void {
  const { images } = deps;

  router.get('/images/json', (ctx) => {
    ctx.json200(images.summaries({ all: ctx.query.bool('all'), filters: ctx.query.filters(), digests: ctx.query.bool('digests') }));
  });

  router.post('/images/create', async (ctx) => {
    const fromImage = ctx.query.str('fromImage');
    const fromSrc = ctx.query.str('fromSrc');
    if (fromImage !== undefined && fromSrc !== undefined) throw invalid('only one of fromImage and fromSrc may be given');
    if (fromImage !== undefined) {
      if (!deps.pull) throw notImplemented('pull is not available');
      const tag = ctx.query.str('tag');
      let ref = fromImage;
      if (tag) ref += tag.includes(':') ? `@${tag}` : `:${tag}`;
      const it = deps.pull(ref, { auth: ctx.header('X-Registry-Auth'), signal: ctx.signal })[Symbol.asyncIterator]();
      await streamProgress(ctx, it);
      return;
    }
    if (fromSrc === undefined) throw invalid('either fromImage or fromSrc is required');
    const changes = ctx.query.all('changes').flatMap((c) => c.split('\n')).filter((c) => c.trim());
    const src = fromSrc === '-' ? (ctx.body() as unknown as Readable) : await importFromUrl(fromSrc, ctx.signal);
    const id = await images.importRootfs(src, {
      repo: ctx.query.str('repo') || undefined,
      tag: ctx.query.str('tag') || undefined,
      message: ctx.query.str('message') || undefined,
      changes,
      source: fromSrc === '-' ? '-' : fromSrc,
      signal: ctx.signal,
    });
    const out = ctx.stream('application/json');
    out.writeJson({ status: id });
    out.end();
  });

  router.post('/images/load', async (ctx) => {
    // quiet=1 only drops progress bars in dockerd; we send none, so the reply is the same.
    const loaded = await loadArchive(images, ctx.body() as unknown as Readable, ctx.signal);
    const out = ctx.stream('application/json');
    for (const l of loaded) out.writeJson({ stream: l.ref ? `Loaded image: ${l.ref}\n` : `Loaded image ID: ${l.id}\n` });
    out.end();
  });

  const save = async (ctx: ApiContext, names: string[]) => {
    if (!names.length) throw invalid('no image names given to save');
    const plan = names.map((n) => ({ ref: n, image: images.resolve(n) })); // resolve all first: 404 before any byte
    const res = ctx.res!;
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    try {
      await saveArchive(images, plan, res, ctx.signal);
    } catch (e) {
      log.warn({ err: errorMessage(e) }, 'image save failed mid-stream');
      res.destroy();
      return;
    }
    res.end();
  };
  router.get('/images/get', (ctx) => save(ctx, ctx.query.all('names')));
  router.get('/images/:name*/get', (ctx) => save(ctx, [ctx.params.name]));

  router.post('/images/prune', async (ctx) => {
    ctx.json200(await images.prune(ctx.query.filters()));
  });

  router.get('/images/:name*/json', (ctx) => {
    ctx.json200(images.inspect(ctx.params.name));
  });

  router.get('/images/:name*/history', (ctx) => {
    ctx.json200(images.history(ctx.params.name));
  });

  router.post('/images/:name*/tag', async (ctx) => {
    const repo = ctx.query.str('repo');
    if (!repo) throw invalid('repository name must have at least one component');
    await images.tag(ctx.params.name, repo, ctx.query.str('tag') || undefined);
    ctx.send(201);
  });

  router.delete('/images/:name*', async (ctx) => {
    ctx.json200(await images.remove(ctx.params.name, { force: ctx.query.bool('force'), noprune: ctx.query.bool('noprune') }));
  });
}
