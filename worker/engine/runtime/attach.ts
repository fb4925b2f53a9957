import { SeqpacketSocket } from 'node-unix-socket';
import { ShoalError, errorMessage } from '../../../shared/errors';

/** Output from a container: stream 1 = stdout, 2 = stderr (Docker's stdcopy numbering). */
export interface OutputChunk {
  stream: 1 | 2;
  data: Buffer;
}

// conmon tags each packet with its pipe: 2 = stdout, 3 = stderr (1 would be stdin).
const CONMON_STDOUT = 2;
const CONMON_STDERR = 3;
// conmon reads one packet into a 32 KiB buffer; larger packets would be truncated.
const MAX_PACKET = 8192;

/**
 * A connection to conmon's attach socket (SOCK_SEQPACKET): output arrives as tagged packets,
 * anything written goes to the process's stdin, and a half-close ends its stdin (unless
 * conmon runs with --leave-stdin-open).
 */
export class AttachConnection {
  private closed = false;
  private inFlight = 0;
  private drainWaiters: Array<() => void> = [];

  private constructor(private readonly sock: SeqpacketSocket) {}

  static connect(path: string, onOutput: (c: OutputChunk) => void, onEnd: () => void): Promise<AttachConnection> {
    return new Promise((resolve, reject) => {
      const sock = new SeqpacketSocket();
      const conn = new AttachConnection(sock);
      let connected = false;
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        conn.closed = true;
        for (const w of conn.drainWaiters.splice(0)) w();
        if (connected) onEnd();
      };
      sock.on('data', (b: Buffer) => {
        if (b.length < 2) return;
        const tag = b[0];
        if (tag === CONMON_STDOUT) onOutput({ stream: 1, data: Buffer.from(b.subarray(1)) });
        else if (tag === CONMON_STDERR) onOutput({ stream: 2, data: Buffer.from(b.subarray(1)) });
      });
      sock.on('end', end);
      sock.on('close', end);
      sock.on('error', (e: Error) => {
        if (!connected) reject(new ShoalError('INTERNAL', `cannot attach to ${path}: ${e.message}`));
        end();
      });
      try {
        sock.connect(path, () => {
          connected = true;
          resolve(conn);
        });
      } catch (e) {
        reject(new ShoalError('INTERNAL', `cannot attach to ${path}: ${errorMessage(e)}`));
      }
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes written but not yet taken by the kernel; callers pause their input above a bound. */
  get pending(): number {
    return this.inFlight;
  }

  /** Send bytes to the process's stdin. Resolves once the kernel has them. */
  write(data: Buffer): Promise<void> {
    if (this.closed || data.length === 0) return Promise.resolve();
    const parts: Promise<void>[] = [];
    for (let off = 0; off < data.length; off += MAX_PACKET) {
      const part = Buffer.from(data.subarray(off, off + MAX_PACKET));
      this.inFlight += part.length;
      parts.push(
        new Promise<void>((resolve) => {
          this.drainWaiters.push(resolve);
          try {
            this.sock.write(part, 0, part.length, () => {
              this.inFlight -= part.length;
              const i = this.drainWaiters.indexOf(resolve);
              if (i >= 0) this.drainWaiters.splice(i, 1);
              resolve();
            });
          } catch {
            resolve();
          }
        }),
      );
    }
    return Promise.all(parts).then(() => undefined);
  }

  /** Half-close: the process sees EOF on stdin; output keeps flowing. */
  closeStdin(): void {
    if (this.closed) return;
    try {
      this.sock.end();
    } catch {
      /* already closed */
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.sock.destroy();
    } catch {
      /* already closed */
    }
  }
}
