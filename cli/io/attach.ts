// The local end of a hijacked attach/exec connection: stdin to the container, its output
// back to stdout/stderr (demultiplexed unless it has a TTY), raw mode and resizes for a TTY.
import type { Duplex } from 'node:stream';
import { Demuxer, StreamType } from '../../shared/api/stdcopy';
import type { CliIO } from '../context';
import { ExitError } from '../errors';

export interface PumpOptions {
  tty: boolean;
  /** Key sequence that detaches from a TTY session (docker's ctrl-p,ctrl-q by default). */
  detachKeys?: string;
  /** Forward local stdin into the connection (and half-close it at EOF). */
  stdin: boolean;
  /** Tell the daemon the terminal size (height, width): at start and on every resize. */
  resize?: (h: number, w: number) => Promise<unknown>;
}

export interface Pump {
  /** Resolves when the container side closes its output, or the user typed the detach keys. */
  done: Promise<{ detached: boolean }>;
  /** Send the current terminal size (after the process has started). */
  resizeNow(): void;
  /** Stop forwarding and restore the terminal. */
  stop(): void;
}

export function pumpStreams(socket: Duplex, io: CliIO, opts: PumpOptions): Pump {
  const demux = new Demuxer();
  const stdin = io.stdin;
  const rawMode = opts.tty && opts.stdin && stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  let stopped = false;

  const onData = (chunk: Buffer) => {
    if (opts.tty) {
      io.stdout.write(chunk);
      return;
    }
    for (const f of demux.push(chunk)) {
      if (f.stream === StreamType.Stderr || f.stream === StreamType.System) io.stderr.write(f.data);
      else io.stdout.write(f.data);
    }
  };
  socket.on('data', onData);

  // Detach keys are watched on the client side, for a TTY only, as docker does.
  const escape = opts.tty && opts.stdin ? parseDetachKeys(opts.detachKeys ?? DEFAULT_DETACH_KEYS) : [];
  let matched = 0;
  let detach: (() => void) | undefined;
  const send = (b: Buffer) => {
    if (b.length && !socket.destroyed && socket.writable) socket.write(b);
  };
  const onInput = (chunk: Buffer) => {
    if (!escape.length) return send(chunk);
    const out: number[] = [];
    for (const b of chunk) {
      if (b === escape[matched]) {
        matched++;
        if (matched === escape.length) {
          send(Buffer.from(out));
          detach?.();
          return;
        }
        continue;
      }
      if (matched > 0) {
        // not the sequence after all: pass on what was held back
        out.push(...escape.slice(0, matched));
        matched = b === escape[0] ? 1 : 0;
        if (matched) continue;
      }
      out.push(b);
    }
    send(Buffer.from(out));
  };
  const onInputEnd = () => {
    if (!socket.destroyed && socket.writable) socket.end();
  };
  if (opts.stdin) {
    if (rawMode) stdin.setRawMode!(true);
    stdin.on('data', onInput);
    stdin.on('end', onInputEnd);
    stdin.resume();
  }

  const out = io.stdout;
  const sendSize = () => {
    if (!opts.resize || !opts.tty || !out.isTTY || !out.rows || !out.columns) return;
    opts.resize(out.rows, out.columns).catch(() => undefined);
  };
  const onResize = () => sendSize();
  if (opts.tty && out.isTTY) out.on('resize', onResize);

  const stop = () => {
    if (stopped) return;
    stopped = true;
    socket.off('data', onData);
    if (opts.stdin) {
      stdin.off('data', onInput);
      stdin.off('end', onInputEnd);
      stdin.pause();
      if (rawMode) stdin.setRawMode!(false);
    }
    if (opts.tty && out.isTTY) (out as unknown as NodeJS.EventEmitter).off('resize', onResize);
  };

  const done = new Promise<{ detached: boolean }>((resolve) => {
    const finish = () => {
      stop();
      resolve({ detached: false });
    };
    detach = () => {
      stop();
      resolve({ detached: true });
    };
    socket.once('end', finish);
    socket.once('close', finish);
    socket.once('error', finish);
  });
  return { done, resizeNow: sendSize, stop };
}

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** "ctrl-p,ctrl-q" or "a,ctrl-@" into bytes; ctrl-a..z, @, [, \\, ], ^, _ as docker allows. */
export function parseDetachKeys(spec: string): number[] {
  const out: number[] = [];
  for (const key of spec.split(',')) {
    const k = key.trim();
    if (k.length === 1) {
      out.push(k.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(k);
    if (!m) throw new ExitError(1, `Invalid detach keys (${spec}) provided`);
    const c = m[1];
    out.push(c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 }[c]!);
  }
  return out;
}
