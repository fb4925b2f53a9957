// The local end of a hijacked attach/exec connection: stdin to the container, its output
// back to stdout/stderr (demultiplexed unless it has a TTY), raw mode and resizes for a TTY.
import type { Duplex } from 'node:stream';
import { Demuxer, StreamType } from '../../shared/api/stdcopy';
import type { CliIO } from '../context';

export interface PumpOptions {
  tty: boolean;
  /** Forward local stdin into the connection (and half-close it at EOF). */
  stdin: boolean;
  /** Tell the daemon the terminal size (height, width): at start and on every resize. */
  resize?: (h: number, w: number) => Promise<unknown>;
}

export interface Pump {
  /** Resolves when the container side closes its output. */
  done: Promise<void>;
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

  const onInput = (chunk: Buffer) => {
    if (!socket.destroyed && socket.writable) socket.write(chunk);
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

  const done = new Promise<void>((resolve) => {
    const finish = () => {
      stop();
      resolve();
    };
    socket.once('end', finish);
    socket.once('close', finish);
    socket.once('error', finish);
  });
  return { done, resizeNow: sendSize, stop };
}
