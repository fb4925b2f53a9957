// A SwarmCli that records the API calls a command makes and answers them from a script:
// no daemon, no socket. stdout is a string; stdin an in-memory stream.
import { PassThrough } from 'node:stream';
import type { RequestOptions } from '../../../../shared/client';
import type { SwarmCli } from '../../../../cli/commands/swarm/common';

export interface Call {
  method: 'GET' | 'POST';
  path: string;
  query?: RequestOptions['query'];
  body?: unknown;
}

/** Answers by "METHOD /path": a value, or a function of the call (which may throw an ApiError). */
export type Routes = Record<string, ((c: Call, n: number) => unknown) | object | string | undefined>;

export type FakeStdin = PassThrough & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown; rawModes: boolean[] };

export class FakeCli implements SwarmCli {
  readonly host = 'unix:///run/shoal/shoal.sock';
  readonly calls: Call[] = [];
  text = '';
  readonly stdin: FakeStdin;
  readonly io: SwarmCli['io'];
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly routes: Routes,
    opts: { tty?: boolean; columns?: number; stdinTty?: boolean } = {},
  ) {
    const stdin = new PassThrough() as FakeStdin;
    stdin.rawModes = [];
    if (opts.stdinTty) {
      stdin.isTTY = true;
      stdin.setRawMode = (raw: boolean) => stdin.rawModes.push(raw);
    }
    this.stdin = stdin;
    const stdout = { write: (s: string) => ((this.text += s), true), isTTY: opts.tty, columns: opts.columns, on: () => stdout };
    this.io = { stdin, stdout: stdout as unknown as SwarmCli['io']['stdout'] };
  }

  readonly client = {
    get: <T>(path: string, o?: RequestOptions) => this.answer<T>({ method: 'GET', path, query: o?.query }),
    post: <T>(path: string, o?: RequestOptions) => this.answer<T>({ method: 'POST', path, query: o?.query, body: o?.body }),
  };

  out(s: string): void {
    this.text += s;
  }

  line(s = ''): void {
    this.text += `${s}\n`;
  }

  /** "GET /swarm" ... in order. */
  get paths(): string[] {
    return this.calls.map((c) => `${c.method} ${c.path}`);
  }

  private async answer<T>(c: Call): Promise<T> {
    const key = `${c.method} ${c.path}`;
    this.calls.push(structuredClone(c));
    const n = this.counts.get(key) ?? 0;
    this.counts.set(key, n + 1);
    if (!(key in this.routes)) throw new Error(`unexpected call ${key}`);
    const r = this.routes[key];
    return structuredClone(typeof r === 'function' ? (r as (c: Call, n: number) => unknown)(c, n) : r) as T;
  }
}
