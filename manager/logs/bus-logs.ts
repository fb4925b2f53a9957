// Service and task logs gathered from the nodes over the bus (shared/bus/logs.ts): one request
// per node that holds the tasks, replies merged as they come. Without follow, the stream ends
// once every node has sent its end marker, or when a node stays silent (it may be down).
import { logger } from '../../shared/log';
import { unavailable } from '../../shared/errors';
import { LOG_KEEPALIVE_MS, logControlSubject, logReplySubject, logRequestSubject, newLogRequestId, type LogReply, type LogRequest } from '../../shared/bus/logs';
import type { MessageBus } from '../../shared/bus';
import type { Task } from '../../shared/swarm';
import type { ClusterStore } from '../store';
import type { LogLine, LogOptions, LogSelector, LogSource } from '../api/context';

const log = logger('logs');

/** How long a non-follow request waits for a node that has not answered at all. */
const SILENT_NODE_MS = 5000;

export class BusLogSource implements LogSource {
  constructor(
    private readonly bus: () => MessageBus,
    private readonly store: () => ClusterStore,
  ) {}

  async *logs(sel: LogSelector, opts: LogOptions, signal: AbortSignal): AsyncIterable<LogLine> {
    const tasks = (await this.store().list<Task & { ID: string }>('tasks')).items.filter((t) => (sel.taskId ? t.ID === sel.taskId : t.ServiceID === sel.serviceId) && t.NodeID);
    const byNode = new Map<string, Task[]>();
    for (const t of tasks) byNode.set(t.NodeID!, [...(byNode.get(t.NodeID!) ?? []), t]);
    if (!byNode.size) return;
    const bus = this.bus();
    const id = newLogRequestId();
    const done = new AbortController();
    const stop = AbortSignal.any([signal, done.signal]);
    const replies = bus.subscribe<LogReply>(logReplySubject(id), stop)[Symbol.asyncIterator]();
    // The subscription is made by the first next(); make it, and let it reach the server,
    // before asking, so no reply is missed.
    let next = replies.next();
    await bus.flush();
    const pending = new Set(byNode.keys());
    const heard = new Set<string>();
    for (const [nodeId, ts] of byNode) {
      const req: LogRequest = { id, taskIds: ts.map((t) => t.ID), follow: opts.follow, stdout: opts.stdout, stderr: opts.stderr, since: opts.since, tail: opts.tail === undefined ? undefined : String(opts.tail) };
      bus.publish(logRequestSubject(nodeId), req);
    }
    const keepalive = opts.follow ? setInterval(() => bus.publish(logControlSubject(id), { kind: 'keepalive' }), LOG_KEEPALIVE_MS) : undefined;
    const silence = opts.follow
      ? undefined
      : setTimeout(() => {
          for (const n of pending) if (!heard.has(n)) pending.delete(n);
          if (!pending.size) done.abort();
        }, SILENT_NODE_MS);
    const serviceOf = new Map(tasks.map((t) => [t.ID, t.ServiceID ?? '']));
    try {
      for (;;) {
        const r = await next;
        if (r.done) break;
        next = replies.next();
        const m = r.value;
        heard.add(m.nodeId);
        if (m.kind === 'end') {
          if (m.error) log.warn({ node: m.nodeId, err: m.error }, 'a node could not send its logs');
          pending.delete(m.nodeId);
          if (!pending.size && !opts.follow) break;
          continue;
        }
        yield { stream: m.stream === 2 ? 'stderr' : 'stdout', line: Buffer.from(m.data, 'base64'), timestamp: m.timeNs, serviceId: serviceOf.get(m.taskId) ?? '', taskId: m.taskId, nodeId: m.nodeId };
      }
    } finally {
      if (keepalive) clearInterval(keepalive);
      if (silence) clearTimeout(silence);
      if (opts.follow) bus.publish(logControlSubject(id), { kind: 'cancel' });
      done.abort();
    }
    if (!heard.size && byNode.size) throw unavailable('no node answered the log request');
  }
}
