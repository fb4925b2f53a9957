import type { ApiContext, Router } from '../../shared/api';
import { frame } from '../../shared/api';
import { invalid } from '../../shared/errors';
import type { ContainerManager, WaitCondition } from '../engine/containers';
import { encodePathStat, parseDetachKeys } from '../engine/containers';
import { pumpSession } from './exec';

export interface ContainerRouteDeps {
  containers: ContainerManager;
}

const MULTIPLEXED = 'application/vnd.docker.multiplexed-stream';
const RAW = 'application/vnd.docker.raw-stream';

function timestampPrefix(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  return `${new Date(ms).toISOString().slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z `;
}

function optionalInt(ctx: ApiContext, name: string): number | undefined {
  return ctx.query.int(name);
}

export function registerContainerRoutes(router: Router, deps: ContainerRouteDeps): void {
  const cm = deps.containers;

  router.post('/containers/create', async (ctx) => {
    const body = await ctx.json<unknown>();
    const res = await cm.create(body, { name: ctx.query.str('name') || undefined });
    ctx.send(201, res);
  });

  router.get('/containers/json', async (ctx) => {
    ctx.json200(await cm.list({ all: ctx.query.bool('all'), limit: optionalInt(ctx, 'limit'), size: ctx.query.bool('size'), filters: ctx.query.filters() }));
  });

  router.post('/containers/prune', async (ctx) => {
    ctx.json200(await cm.prune(ctx.query.filters()));
  });

  router.get('/containers/:id/json', async (ctx) => {
    ctx.json200(await cm.inspect(ctx.params.id, { size: ctx.query.bool('size') }));
  });

  router.post('/containers/:id/start', async (ctx) => {
    if (ctx.query.str('detachKeys')) parseDetachKeys(ctx.query.str('detachKeys'));
    const r = await cm.start(ctx.params.id);
    ctx.send(r === 'already' ? 304 : 204);
  });

  router.post('/containers/:id/stop', async (ctx) => {
    const r = await cm.stop(ctx.params.id, { timeout: optionalInt(ctx, 't'), signal: ctx.query.str('signal') || undefined });
    ctx.send(r === 'already' ? 304 : 204);
  });

  router.post('/containers/:id/restart', async (ctx) => {
    await cm.restart(ctx.params.id, { timeout: optionalInt(ctx, 't'), signal: ctx.query.str('signal') || undefined });
    ctx.noContent();
  });

  router.post('/containers/:id/kill', async (ctx) => {
    await cm.kill(ctx.params.id, ctx.query.str('signal') || undefined);
    ctx.noContent();
  });

  router.post('/containers/:id/pause', async (ctx) => {
    await cm.pause(ctx.params.id);
    ctx.noContent();
  });

  router.post('/containers/:id/unpause', async (ctx) => {
    await cm.unpause(ctx.params.id);
    ctx.noContent();
  });

  router.post('/containers/:id/wait', async (ctx) => {
    const condition = (ctx.query.str('condition') || 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw invalid(`invalid condition: "${condition}"`);
    // The waiter is registered before the headers go out: the CLI starts the container as
    // soon as it has them, so an exit right after start is not missed.
    const waiting = cm.wait(ctx.params.id, condition, ctx.signal);
    const out = ctx.stream('application/json');
    try {
      out.writeJson(await waiting);
    } catch {
      /* client went away */
    } finally {
      out.end();
    }
  });

  router.delete('/containers/:id', async (ctx) => {
    await cm.remove(ctx.params.id, { force: ctx.query.bool('force'), volumes: ctx.query.bool('v') });
    ctx.noContent();
  });

  router.get('/containers/:id/logs', async (ctx) => {
    const { tty, entries } = cm.logs(ctx.params.id, {
      follow: ctx.query.bool('follow'),
      stdout: ctx.query.bool('stdout'),
      stderr: ctx.query.bool('stderr'),
      since: ctx.query.str('since'),
      until: ctx.query.str('until'),
      tail: ctx.query.str('tail'),
      signal: ctx.signal,
    });
    const timestamps = ctx.query.bool('timestamps');
    const out = ctx.stream(tty ? RAW : MULTIPLEXED);
    try {
      for await (const e of entries) {
        if (out.closed()) break;
        const data = timestamps ? Buffer.concat([Buffer.from(timestampPrefix(e.timeNs)), e.data]) : e.data;
        out.write(tty ? data : frame(e.stream, data));
      }
    } finally {
      out.end();
    }
  });

  router.post('/containers/:id/attach', async (ctx) => {
    const detachKeys = parseDetachKeys(ctx.query.str('detachKeys'));
    const session = await cm.attach(ctx.params.id, {
      stdin: ctx.query.bool('stdin'),
      stdout: ctx.query.bool('stdout'),
      stderr: ctx.query.bool('stderr'),
      logs: ctx.query.bool('logs'),
      stream: ctx.query.bool('stream'),
    });
    const sock = ctx.hijack(session.tty ? RAW : MULTIPLEXED);
    await pumpSession(sock, session, detachKeys);
  });

  router.post('/containers/:id/resize', async (ctx) => {
    const h = ctx.query.int('h');
    const w = ctx.query.int('w');
    if (h === undefined || w === undefined || h < 0 || w < 0) throw invalid('resize needs h and w, as non-negative integers');
    await cm.resize(ctx.params.id, h, w);
    ctx.send(200);
  });

  router.post('/containers/:id/rename', async (ctx) => {
    const name = ctx.query.str('name');
    if (!name) throw invalid('a new name is required (?name=)');
    await cm.rename(ctx.params.id, name);
    ctx.noContent();
  });

  router.get('/containers/:id/stats', async (ctx) => {
    const samples = cm.stats(ctx.params.id, { stream: ctx.query.bool('stream', true), oneShot: ctx.query.bool('one-shot'), signal: ctx.signal });
    const out = ctx.stream('application/json');
    try {
      for await (const s of samples) {
        if (out.closed()) break;
        out.write(`${JSON.stringify(s)}\n`);
      }
    } finally {
      out.end();
    }
  });

  router.post('/containers/:id/update', async (ctx) => {
    ctx.json200(await cm.update(ctx.params.id, await ctx.json<unknown>()));
  });

  const archivePath = (ctx: ApiContext): string => {
    const p = ctx.query.str('path');
    if (!p) throw invalid('a path is required (?path=)');
    return p;
  };
  router.head('/containers/:id/archive', async (ctx) => {
    const stat = await cm.archiveStat(ctx.params.id, archivePath(ctx));
    ctx.send(200, undefined, { 'X-Docker-Container-Path-Stat': encodePathStat(stat) });
  });
  router.get('/containers/:id/archive', async (ctx) => {
    const { stat, stream } = await cm.archiveGet(ctx.params.id, archivePath(ctx));
    const res = ctx.res!;
    res.writeHead(200, { 'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': encodePathStat(stat) });
    await new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('error', () => {
        res.destroy();
        resolve();
      });
      res.on('close', resolve);
      stream.pipe(res);
    });
  });
  router.put('/containers/:id/archive', async (ctx) => {
    await cm.archivePut(ctx.params.id, archivePath(ctx), ctx.body(), { copyUIDGID: ctx.query.bool('copyUIDGID') });
    ctx.send(200);
  });

  router.get('/containers/:id/changes', async (ctx) => {
    const changes = await cm.changes(ctx.params.id);
    ctx.json200(changes.length ? changes : null);
  });

  router.get('/containers/:id/top', async (ctx) => {
    ctx.json200(await cm.top(ctx.params.id, ctx.query.str('ps_args') || undefined));
  });

  router.post('/commit', async (ctx) => {
    const container = ctx.query.str('container');
    if (!container) throw invalid('a container is required (?container=)');
    const config = await ctx.json<Record<string, unknown>>({});
    if (typeof config !== 'object' || config === null || Array.isArray(config)) throw invalid('invalid request body: expected a container config object');
    const res = await cm.commit(container, {
      repo: ctx.query.str('repo') || undefined,
      tag: ctx.query.str('tag') || undefined,
      comment: ctx.query.str('comment') || undefined,
      author: ctx.query.str('author') || undefined,
      changes: ctx.query.all('changes'),
      pause: ctx.query.bool('pause', true),
      config,
    });
    ctx.send(201, res);
  });
}
