import { AttachConnection, type OutputChunk } from '../runtime/attach';

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Replay the log first. */
  logs: boolean;
  /** Stay attached to live output (and input). */
  stream: boolean;
}

/**
 * One client's attachment to a container (or exec): an output stream it iterates, and an
 * input it writes. It may exist before the process does (attach before start): input is
 * buffered and output starts with the first byte once `connect` links it to conmon.
 */
export class AttachSession {
  private queue: OutputChunk[] = [];
  private waiter?: () => void;
  private ended = false;
  private closed = false;
  private conn?: AttachConnection;
  private stdinBuf: Buffer[] = [];
  private stdinBufBytes = 0;
  private stdinEnded = false;
  private endGate: Promise<unknown> = Promise.resolve();
  private closeHandlers: Array<() => void> = [];

  constructor(
    readonly tty: boolean,
    readonly opts: AttachOptions,
  ) {}

  /** Output not yet consumed plus stdin not yet taken: callers pause their input above a bound. */
  get pendingInput(): number {
    return this.stdinBufBytes + (this.conn?.pending ?? 0);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Queue output (logs replay or live), honouring the stdout/stderr choice. */
  push(c: OutputChunk): void {
    if (this.ended) return;
    if ((c.stream === 1 && !this.opts.stdout) || (c.stream === 2 && !this.opts.stderr)) return;
    this.queue.push(c);
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Hold the end of output until `p` settles (an exec's exit code must be recorded first). */
  holdEndUntil(p: Promise<unknown>): void {
    this.endGate = p.catch(() => undefined);
  }

  /** No more output: after the queue drains the iterator finishes. */
  end(): void {
    if (this.ended) return;
    void this.endGate.then(() => {
      this.ended = true;
      this.wake();
    });
  }

  async *output(): AsyncIterable<OutputChunk> {
    for (;;) {
      const c = this.queue.shift();
      if (c) {
        yield c;
        continue;
      }
      if (this.ended || this.closed) return;
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  /** Link to conmon's attach socket; buffered input goes first. */
  async connect(socketPath: string): Promise<void> {
    if (this.closed) return;
    const conn = await AttachConnection.connect(
      socketPath,
      (c) => this.push(c),
      () => this.end(),
    );
    if (this.closed) {
      conn.close();
      return;
    }
    this.conn = conn;
    if (this.opts.stdin) {
      const buffered = this.stdinBuf;
      this.stdinBuf = [];
      this.stdinBufBytes = 0;
      for (const b of buffered) void conn.write(b);
      if (this.stdinEnded) conn.closeStdin();
    }
  }

  get connected(): boolean {
    return !!this.conn;
  }

  /** Client input for the process's stdin (dropped unless attached with stdin). */
  write(data: Buffer): Promise<void> {
    if (!this.opts.stdin || this.stdinEnded) return Promise.resolve();
    if (!this.conn) {
      this.stdinBuf.push(data);
      this.stdinBufBytes += data.length;
      return Promise.resolve();
    }
    return this.conn.write(data);
  }

  /** The client finished its input: the process sees EOF (StdinOnce containers, exec -i). */
  closeStdin(): void {
    if (!this.opts.stdin || this.stdinEnded) return;
    this.stdinEnded = true;
    this.conn?.closeStdin();
  }

  onClose(cb: () => void): void {
    this.closeHandlers.push(cb);
  }

  /** The client went away (or detached): drop the connection, the process keeps running. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.conn?.close();
    this.wake();
    for (const cb of this.closeHandlers.splice(0)) cb();
  }
}
