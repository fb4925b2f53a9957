// POST /build (the classic builder the docker CLI uses without buildx) and POST /build/prune.
import type { ApiContext, Router } from '../../shared/api';
import { invalid } from '../../shared/errors';
import type { Builder, BuildOptions } from '../engine/build';
import { parseEventTime } from './system';

export interface BuildRouteDeps {
  builder: Builder;
}

function stringMap(ctx: ApiContext, name: string, allowNull: boolean): Record<string, string | null> {
  const v = ctx.query.json<unknown>(name);
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`invalid ${name}: expected a JSON object of strings`);
  const out: Record<string, string | null> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (typeof val === 'string' || (allowNull && val === null)) out[k] = val;
    else throw invalid(`invalid ${name}: the value of ${JSON.stringify(k)} must be a string`);
  }
  return out;
}

/** The query of POST /build as compiled build options; refuses what this builder cannot do. */
export function buildOptionsFromQuery(ctx: ApiContext): BuildOptions {
  const q = ctx.query;
  const remote = q.str('remote');
  if (remote) throw invalid(`remote build contexts are not supported: shoald has no network access to fetch ${remote}; send the context as the request body`);
  const version = q.str('version');
  if (version && version !== '1') throw invalid(`builder version ${version} (BuildKit) is not supported; shoald implements the classic builder (version 1)`);
  if (q.bool('squash')) throw invalid('squash is only supported with experimental mode');
  const outputs = q.json<unknown[]>('outputs');
  if (outputs && outputs.length > 0) throw invalid('build outputs are a BuildKit feature; the classic builder only makes an image');
  const hostConfig: Record<string, unknown> = {};
  const ints: Array<[string, string]> = [
    ['memory', 'Memory'],
    ['memswap', 'MemorySwap'],
    ['cpushares', 'CpuShares'],
    ['cpuperiod', 'CpuPeriod'],
    ['cpuquota', 'CpuQuota'],
    ['shmsize', 'ShmSize'],
  ];
  for (const [param, field] of ints) {
    const v = q.int(param);
    if (v !== undefined && v !== 0) hostConfig[field] = v;
  }
  const cpuset = q.str('cpusetcpus');
  if (cpuset) hostConfig.CpusetCpus = cpuset;
  const cgroupParent = q.str('cgroupparent');
  if (cgroupParent) hostConfig.CgroupParent = cgroupParent;
  const extraHosts = q.all('extrahosts').flatMap((h) => h.split(',')).filter((h) => h !== '');
  if (extraHosts.length > 0) hostConfig.ExtraHosts = extraHosts;
  const ulimits = q.json<unknown>('ulimits');
  if (ulimits !== undefined && ulimits !== null) {
    if (!Array.isArray(ulimits)) throw invalid('invalid ulimits: expected a JSON array');
    if (ulimits.length > 0) hostConfig.Ulimits = ulimits;
  }
  const networkMode = q.str('networkmode');
  return {
    tags: q.all('t').filter((t) => t !== ''),
    dockerfile: q.str('dockerfile') || undefined,
    buildArgs: stringMap(ctx, 'buildargs', true),
    labels: stringMap(ctx, 'labels', false) as Record<string, string>,
    noCache: q.bool('nocache'),
    rm: q.bool('rm', true),
    forceRm: q.bool('forcerm'),
    target: q.str('target') || undefined,
    quiet: q.bool('q'),
    // RUN steps use the host's network unless asked otherwise (see BuildOptions.networkMode).
    networkMode: networkMode && networkMode !== 'default' ? networkMode : 'host',
    hostConfig,
  };
}

export function registerBuildRoutes(router: Router, deps: BuildRouteDeps): void {
  router.post('/build', async (ctx) => {
    const options = buildOptionsFromQuery(ctx);
    // Context and Dockerfile problems throw here, before any output: a plain 4xx reply.
    const prepared = await deps.builder.prepare(ctx.body(), options, ctx.signal);
    let out;
    try {
      out = ctx.stream('application/json');
    } catch (e) {
      await prepared.dispose();
      throw e;
    }
    try {
      for await (const m of prepared.run(ctx.signal)) {
        if (!out.closed()) out.writeJson(m);
      }
    } finally {
      out.end();
    }
  });

  router.post('/build/prune', async (ctx) => {
    const filters = ctx.query.filters();
    for (const k of filters.keys()) {
      if (k !== 'until') throw invalid(`invalid filter '${k}': the classic build cache supports only 'until'`);
    }
    const until = filters.get('until')?.[0];
    const untilMs = until === undefined ? undefined : parseEventTime(until);
    ctx.json200(await deps.builder.prune({ untilMs }));
  });
}
