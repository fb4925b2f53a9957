// Log lines of several containers on one output, each prefixed as docker compose prints them:
// the container's name without the project ("web-1"), padded to the longest name, then " | ".
import { Demuxer, StreamType } from '../../shared/api/stdcopy';

const COLORS = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

export interface LineSink {
  write(s: string): unknown;
}

/** "web-1  | " for width 6 (compose pads the name to the longest name plus one). */
export function logPrefix(name: string, width: number): string {
  return `${name.padEnd(width)} | `;
}

export class LogPrinter {
  private width: number;
  private readonly colors = new Map<string, number>();

  constructor(
    private readonly out: LineSink,
    names: string[],
    private readonly opts: { prefix: boolean; color: boolean },
  ) {
    this.width = Math.max(0, ...names.map((n) => n.length)) + 1;
    names.forEach((n, i) => this.colors.set(n, COLORS[i % COLORS.length]));
  }

  private prefix(name: string): string {
    if (!this.opts.prefix) return '';
    const p = logPrefix(name, this.width);
    return this.opts.color ? `\x1b[${this.colors.get(name) ?? 0}m${p.slice(0, -1)}\x1b[0m ` : p;
  }

  /** One complete line (without its newline). */
  line(name: string, text: string): void {
    this.out.write(`${this.prefix(name)}${text}\n`);
  }

  /** A status line of compose's own ("web-1 exited with code 0"). */
  event(text: string): void {
    this.out.write(`${text}\n`);
  }
}

/** Splits a logs body into lines per stream (demultiplexed unless the container has a TTY). */
export class LineSplitter {
  private readonly demux = new Demuxer();
  private readonly partial = new Map<string, string>();

  constructor(private readonly tty: boolean) {}

  /** Complete lines in this chunk, as [stream, line]. */
  push(chunk: Buffer): Array<['stdout' | 'stderr', string]> {
    const frames = this.tty ? [{ stream: StreamType.Stdout, data: chunk }] : this.demux.push(chunk);
    const out: Array<['stdout' | 'stderr', string]> = [];
    for (const f of frames) {
      const s = f.stream === StreamType.Stderr ? 'stderr' : 'stdout';
      const text = (this.partial.get(s) ?? '') + f.data.toString('utf8');
      const parts = text.split('\n');
      this.partial.set(s, parts.pop()!);
      for (const p of parts) out.push([s, p.replace(/\r$/, '')]);
    }
    return out;
  }

  /** What is left without a final newline. */
  flush(): Array<['stdout' | 'stderr', string]> {
    const out: Array<['stdout' | 'stderr', string]> = [];
    for (const [s, p] of this.partial) if (p) out.push([s as 'stdout' | 'stderr', p]);
    this.partial.clear();
    return out;
  }
}
