// Answers the managers' log requests for the tasks this node runs: each task's container log
// goes to the request's reply subject, line by line, then an end marker.
import { logger } from '../../../shared/log';
import { errorMessage } from '../../../shared/errors';
import { LOG_ABANDON_MS, logControlSubject, logReplySubject, logRequestSubject, type LogControl, type LogReply, type LogRequest, type MessageBus } from '../../../shared/bus';
import type { LogEntry } from '../../engine/containers/logs';

/** What the server needs of the engine: containers by task, and their logs. */
export interface TaskLogs {
  containerOf(taskId: string): Promise<string | undefined>;
  logs(containerId: string, q: { follow: boolean; stdout: boolean; stderr: boolean; since?: string; tail?: string; signal: AbortSignal }): AsyncIterable<LogEntry>;
}

const log = logger('agent-logs');

export class LogServer {
  constructor(
    private readonly bus: MessageBus,
    private readonly nodeId: string,
    private readonly source: TaskLogs,
  ) {}

  /** Serve until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    for await (const req of this.bus.subscribe<LogRequest>(logRequestSubject(this.nodeId), signal)) {
      void this.answer(req, signal).catch((e) => log.warn({ err: errorMessage(e), request: req.id }, 'log request failed'));
    }
  }

  private async answer(req: LogRequest, outer: AbortSignal): Promise<void> {
    const reply = (r: LogReply) => this.bus.publish(logReplySubject(req.id), r);
    const done = new AbortController();
    const signal = AbortSignal.any([outer, done.signal]);
    if (req.follow) void this.watchControl(req.id, done, signal);
    let error: string | undefined;
    try {
      await Promise.all(
        req.taskIds.map(async (taskId) => {
          const id = await this.source.containerOf(taskId);
          if (!id) return;
          for await (const e of this.source.logs(id, { follow: req.follow, stdout: req.stdout, stderr: req.stderr, since: req.since, tail: req.tail, signal })) {
            reply({ kind: 'line', nodeId: this.nodeId, taskId, stream: e.stream, timeNs: e.timeNs.toString(), data: e.data.toString('base64') });
          }
        }),
      );
    } catch (e) {
      if (!signal.aborted) error = errorMessage(e);
    } finally {
      done.abort();
    }
    reply({ kind: 'end', nodeId: this.nodeId, ...(error ? { error } : {}) });
  }

  /** A follow ends on cancel, or when the manager's keepalives stop (it went away). */
  private async watchControl(id: string, done: AbortController, signal: AbortSignal): Promise<void> {
    let last = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - last > LOG_ABANDON_MS) done.abort();
    }, 1000);
    try {
      for await (const c of this.bus.subscribe<LogControl>(logControlSubject(id), signal)) {
        if (c.kind === 'cancel') done.abort();
        last = Date.now();
      }
    } finally {
      clearInterval(timer);
    }
  }
}
