import os from 'node:os';
import { withDeadline } from '../../shared/signals';
import type { Router } from '../../shared/api';
import { API_VERSION, MIN_API_VERSION } from '../../shared/api';
import type { EventBus, EngineEvent } from '../../shared/events';
import { invalid } from '../../shared/errors';
import { parseDurationMs } from '../../shared/units';
import type { DaemonConfig } from '../daemon/config';

export const SHOAL_VERSION: string = require('../../../package.json').version;

export interface SystemInfoSource {
  config: DaemonConfig;
  events: EventBus;
  /** Counts and details other modules add to /info. */
  info(): Promise<Record<string, unknown>>;
}

const PING_HEADERS = {
  'Api-Version': API_VERSION,
  'Builder-Version': '1',
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  Pragma: 'no-cache',
  Swarm: 'inactive',
};

/** Parse an /events since/until value: unix seconds (with fraction) or a relative duration. */
export function parseEventTime(v: string | undefined, now = Date.now()): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return parseFloat(v) * 1000;
  const t = Date.parse(v);
  if (!Number.isNaN(t)) return t;
  try {
    return now - parseDurationMs(v, 'time');
  } catch {
    throw invalid(`invalid time value '${v}': expected a unix timestamp, an RFC 3339 date or a duration`);
  }
}

function eventMatches(ev: EngineEvent, filters: Map<string, string[]>): boolean {
  for (const [key, values] of filters) {
    if (!values.length) continue;
    const ok = values.some((v) => {
      switch (key) {
        case 'type': return ev.Type === v;
        case 'event': return ev.Action === v || ev.Action.startsWith(`${v}:`);
        case 'container': case 'image': case 'network': case 'volume':
          return ev.Type === key && (ev.Actor.ID.startsWith(v) || ev.Actor.Attributes.name === v);
        case 'label': {
          const [k, val] = v.split('=', 2);
          return val === undefined ? k in ev.Actor.Attributes : ev.Actor.Attributes[k] === val;
        }
        case 'scope': return ev.scope === v;
        default: return true;
      }
    });
    if (!ok) return false;
  }
  return true;
}

export function registerSystemRoutes(router: Router, src: SystemInfoSource): void {
  const ping = (ctx: Parameters<Parameters<Router['get']>[1]>[0]) => ctx.send(200, ctx.method === 'HEAD' ? undefined : 'OK', { ...PING_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
  router.get('/_ping', ping);
  router.head('/_ping', ping);

  router.get('/version', (ctx) => {
    ctx.json200({
      Platform: { Name: 'shoal' },
      Components: [{ Name: 'Engine', Version: SHOAL_VERSION, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: goArch() } }],
      Version: SHOAL_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: '',
      GoVersion: `node${process.versions.node}`,
      Os: 'linux',
      Arch: goArch(),
      KernelVersion: os.release(),
      BuildTime: '',
    });
  });

  router.get('/info', async (ctx) => {
    const extra = await src.info();
    ctx.json200({
      ID: src.config.nodeName,
      Name: src.config.nodeName,
      ServerVersion: SHOAL_VERSION,
      OperatingSystem: 'shoal',
      OSType: 'linux',
      Architecture: os.arch() === 'x64' ? 'x86_64' : os.arch(),
      KernelVersion: os.release(),
      NCPU: os.cpus().length,
      MemTotal: os.totalmem(),
      DockerRootDir: src.config.dataRoot,
      Driver: 'overlay',
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: '1',
      DefaultRuntime: src.config.runtime,
      Runtimes: { crun: { path: 'crun' }, runc: { path: 'runc' } },
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      SystemTime: new Date().toISOString(),
      Containers: 0,
      ContainersRunning: 0,
      ContainersPaused: 0,
      ContainersStopped: 0,
      Images: 0,
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Log: ['json-file'] },
      Labels: [],
      Warnings: [],
      ...extra,
    });
  });

  router.get('/events', async (ctx) => {
    const since = parseEventTime(ctx.query.str('since'));
    const until = parseEventTime(ctx.query.str('until'));
    const filters = ctx.query.filters();
    const out = ctx.stream('application/json');
    // The subscription ends when the client goes away or when `until` comes.
    const deadline = until !== undefined ? withDeadline(until - Date.now(), ctx.signal) : undefined;
    const signal = deadline?.signal ?? ctx.signal;
    const live = src.events.subscribe(signal);
    if (since !== undefined) for (const ev of src.events.history(since, until)) if (eventMatches(ev, filters)) out.writeJson(ev);
    if (until !== undefined && until <= Date.now()) return out.end();
    try {
      for await (const ev of live) {
        if (out.closed()) break;
        if (eventMatches(ev, filters)) out.writeJson(ev);
      }
    } finally {
      deadline?.clear();
      out.end();
    }
  });
}

function goArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' } as Record<string, string>)[os.arch()] ?? os.arch();
}
