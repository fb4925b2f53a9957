// GET /services/{id}/logs and /tasks/{id}/logs, framed as dockerd frames them. With details=1
// each line starts with its context as "k=v,k=v " (keys sorted, query-escaped), which is what
// the docker CLI parses to print "svc.1.taskid@node    | line"; timestamps go before that.
import type { ApiContext, Router } from '../../shared/api';
import { StreamType, compareVersions, frame } from '../../shared/api';
import { errorMessage, invalid } from '../../shared/errors';
import type { ControlContext, LogLine, LogOptions, LogSelector } from './context';
import { managerOnly } from './http';
import { findService } from './services';
import { findTask } from './tasks';

const MULTIPLEXED = 'application/vnd.docker.multiplexed-stream';
const RAW = 'application/vnd.docker.raw-stream';

/** The stream options of a logs request; errors are dockerd's, as 400s. */
export function logOptions(q: { bool(name: string): boolean; str(name: string): string | undefined }): LogOptions {
  const stdout = q.bool('stdout');
  const stderr = q.bool('stderr');
  if (!stdout && !stderr) throw invalid('Bad parameters: you must choose at least one stream');
  const opts: LogOptions = { follow: q.bool('follow'), stdout, stderr };
  const tail = q.str('tail') ?? '';
  if (tail !== '' && tail !== 'all') {
    if (!/^[+-]?\d+$/.test(tail)) throw invalid('tail value must be a positive integer or "all"');
    const n = Number(tail);
    if (n < 0) throw invalid('negative tail values not supported');
    opts.tail = n;
  }
  const since = q.str('since') ?? '';
  if (since !== '') {
    parseSince(since);
    opts.since = since;
  }
  return opts;
}

/** dockerd's since: unix seconds with an optional fraction ("1700000000.123456789"); ms since the epoch. */
export function parseSince(v: string): number {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (!m) throw invalid(`could not parse since timestamp: '${v}' is not unix seconds (SECONDS[.NANOSECONDS])`);
  return Number(m[1]) * 1000 + Number((m[2] ?? '0').padEnd(9, '0')) / 1e6;
}

/** Go's url.QueryEscape: space as '+', everything but letters, digits and -_.~ escaped. */
export function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/**
 * Go's RFC3339NanoFixed in UTC: always nine fractional digits ("2024-01-02T03:04:05.120000000Z"),
 * from RFC 3339 or from nanoseconds since the epoch (how workers ship a line's time).
 */
export function fixedTimestamp(ts: string): string {
  if (/^\d+$/.test(ts)) {
    const ns = BigInt(ts);
    const seconds = new Date(Number(ns / 1_000_000_000n) * 1000).toISOString().slice(0, 19);
    return `${seconds}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
  }
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/i.exec(ts);
  if (!m) {
    const d = new Date(ts);
    return Number.isNaN(d.getTime()) ? ts : fixedTimestamp(d.toISOString());
  }
  const frac = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  if (m[3].toUpperCase() === 'Z') return `${m[1]}.${frac}Z`;
  // Shift to UTC by whole seconds; the fraction is unchanged by a zone offset.
  const utc = new Date(`${m[1]}${m[3]}`).toISOString().slice(0, 19);
  return `${utc}.${frac}Z`;
}

/** The details prefix: extra attributes, then the swarm context (which wins over any extra of the same key). */
export function detailsOf(l: LogLine): string {
  const attrs = new Map<string, string>();
  for (const [k, v] of Object.entries(l.attrs ?? {})) attrs.set(k, v);
  attrs.set('com.docker.swarm.node.id', l.nodeId);
  attrs.set('com.docker.swarm.service.id', l.serviceId);
  attrs.set('com.docker.swarm.task.id', l.taskId);
  return [...attrs.keys()]
    .sort()
    .map((k) => `${queryEscape(k)}=${queryEscape(attrs.get(k)!)}`)
    .join(',');
}

/** One log line as it goes on the wire (before stdcopy framing). */
export function formatLogLine(l: LogLine, opts: { details: boolean; timestamps: boolean }): Buffer {
  const parts: Buffer[] = [];
  if (opts.timestamps) parts.push(Buffer.from(`${fixedTimestamp(l.timestamp)} `));
  if (opts.details) parts.push(Buffer.from(`${detailsOf(l)} `));
  parts.push(l.line);
  return Buffer.concat(parts);
}

async function streamLogs(c: ControlContext, ctx: ApiContext, selector: LogSelector, tty: boolean): Promise<void> {
  const opts = logOptions(ctx.query);
  const format = { details: ctx.query.bool('details'), timestamps: ctx.query.bool('timestamps') };
  // dockerd frames unless the service has a TTY; only API 1.42+ clients are told so in the header.
  const multiplexed = !tty && compareVersions(ctx.version, '1.42') >= 0;
  const out = ctx.stream(multiplexed ? MULTIPLEXED : RAW);
  const write = (stream: 'stdout' | 'stderr', data: Buffer) => out.write(tty ? data : frame(stream === 'stderr' ? StreamType.Stderr : StreamType.Stdout, data));
  try {
    for await (const l of c.logs.logs(selector, opts, ctx.signal)) {
      if (out.closed()) break;
      if ((l.stream === 'stdout' && !opts.stdout) || (l.stream === 'stderr' && !opts.stderr)) continue;
      write(l.stream, formatLogLine(l, format));
    }
  } catch (e) {
    if (!ctx.signal.aborted && !out.closed()) write('stdout', Buffer.from(`Error grabbing logs: ${errorMessage(e)}\n`));
  } finally {
    out.end();
  }
}

export function registerLogRoutes(router: Router, c: ControlContext): void {
  const r = managerOnly(router, c);

  r.get('/services/:id/logs', async (ctx) => {
    logOptions(ctx.query); // bad parameters are a 400 before anything is looked up
    const s = await findService(c, ctx.params.id);
    await streamLogs(c, ctx, { serviceId: s.ID }, !!s.Spec.TaskTemplate?.ContainerSpec?.TTY);
  });

  r.get('/tasks/:id/logs', async (ctx) => {
    logOptions(ctx.query);
    const t = await findTask(c, ctx.params.id);
    await streamLogs(c, ctx, { taskId: t.ID }, !!t.Spec.ContainerSpec?.TTY);
  });
}
