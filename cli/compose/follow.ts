// Stream the logs of several containers at once through one LogPrinter (compose logs, and
// the foreground of compose up).
import type { Cli } from '../context';
import { LineSplitter, LogPrinter } from './logs';
import { shortContainerName } from './labels';
import type { ProjectApi } from './engine';

export interface FollowTarget {
  id: string;
  name: string;
}

export interface FollowOptions {
  follow: boolean;
  tail?: string;
  timestamps?: boolean;
  since?: string;
  prefix: boolean;
  color: boolean;
  /** Called when a followed container's stream ends (it stopped). */
  onEnd?: (t: FollowTarget, printer: LogPrinter) => Promise<void>;
}

export function printerFor(cli: Cli, api: ProjectApi, targets: FollowTarget[], opts: { prefix: boolean; color: boolean }): LogPrinter {
  return new LogPrinter(cli.io.stdout as { write(s: string): unknown }, targets.map((t) => shortContainerName(api.project, t.name)), opts);
}

/** Print (and with `follow` keep printing) every target's logs; resolves when all streams end. */
export async function streamLogs(cli: Cli, api: ProjectApi, targets: FollowTarget[], opts: FollowOptions, printer = printerFor(cli, api, targets, opts)): Promise<void> {
  await Promise.all(
    targets.map(async (t) => {
      const short = shortContainerName(api.project, t.name);
      const info = await api.inspect(t.id);
      const stream = await cli.client.stream('GET', `/containers/${t.id}/logs`, {
        query: { stdout: 1, stderr: 1, follow: opts.follow ? 1 : undefined, tail: opts.tail ?? 'all', timestamps: opts.timestamps ? 1 : undefined, since: opts.since },
      });
      const split = new LineSplitter(!!info.Config?.Tty);
      for await (const chunk of stream) for (const [, line] of split.push(chunk as Buffer)) printer.line(short, line);
      for (const [, line] of split.flush()) printer.line(short, line);
      await opts.onEnd?.(t, printer);
    }),
  );
}
