import { promises as fs, watch as fsWatch } from 'node:fs';
import { invalid } from '../../../shared/errors';

// Container logs as conmon writes them (k8s-file): one line per chunk of output,
//   <RFC3339Nano with offset> <stdout|stderr> <F|P> <bytes>\n
// F ends a line (the newline itself is not stored); P is a piece of a longer line, or the
// last piece of output that had no newline yet.

export interface LogEntry {
  /** Nanoseconds since the epoch. */
  timeNs: bigint;
  stream: 1 | 2; // stdout, stderr
  /** The bytes, with a trailing newline when the line was complete. */
  data: Buffer;
}

export interface K8sLine {
  timeNs: bigint;
  stream: 1 | 2;
  partial: boolean;
  content: Buffer;
}

/** "2026-01-02T03:04:05.123456789+01:00" -> ns since the epoch. */
export function parseTimestampNs(ts: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(ts);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  const frac = (m[2] ?? '').padEnd(9, '0');
  return BigInt(ms) * 1_000_000n + BigInt(frac || '0');
}

/** Docker's fixed-width RFC 3339 with nanoseconds, in UTC ("...T03:04:05.123456789Z"). */
export function formatTimestampNs(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2026-01-02T03:04:05.123Z
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

/** Parse one k8s-file line (without its newline). Unparseable lines give undefined. */
export function parseK8sLine(line: Buffer): K8sLine | undefined {
  const sp1 = line.indexOf(0x20);
  if (sp1 < 0) return undefined;
  const sp2 = line.indexOf(0x20, sp1 + 1);
  if (sp2 < 0) return undefined;
  const sp3 = line.indexOf(0x20, sp2 + 1);
  const tag = line.subarray(sp2 + 1, sp3 < 0 ? line.length : sp3).toString();
  if (tag !== 'F' && tag !== 'P') return undefined;
  const timeNs = parseTimestampNs(line.subarray(0, sp1).toString());
  const streamName = line.subarray(sp1 + 1, sp2).toString();
  if (timeNs === undefined || (streamName !== 'stdout' && streamName !== 'stderr')) return undefined;
  return { timeNs, stream: streamName === 'stdout' ? 1 : 2, partial: tag === 'P', content: sp3 < 0 ? Buffer.alloc(0) : line.subarray(sp3 + 1) };
}

/**
 * Joins P pieces with the F line that completes them, per stream, into whole entries.
 * A trailing piece without an F yet is held until `flush()` (container stopped).
 */
export class LogAssembler {
  private pending: Record<1 | 2, { timeNs: bigint; parts: Buffer[] } | undefined> = { 1: undefined, 2: undefined };

  push(l: K8sLine): LogEntry | undefined {
    const p = this.pending[l.stream];
    if (l.partial) {
      if (p) p.parts.push(l.content);
      else this.pending[l.stream] = { timeNs: l.timeNs, parts: [l.content] };
      return undefined;
    }
    this.pending[l.stream] = undefined;
    const parts = p ? [...p.parts, l.content] : [l.content];
    return { timeNs: p?.timeNs ?? l.timeNs, stream: l.stream, data: Buffer.concat([...parts, Buffer.from('\n')]) };
  }

  /** Entries for pieces never completed (output that ended without a newline). */
  flush(): LogEntry[] {
    const out: LogEntry[] = [];
    for (const s of [1, 2] as const) {
      const p = this.pending[s];
      if (p) out.push({ timeNs: p.timeNs, stream: s, data: Buffer.concat(p.parts) });
      this.pending[s] = undefined;
    }
    return out.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
  }
}

/** Split a k8s-file's bytes into lines; the unterminated rest is returned for the next read. */
export function splitLines(buf: Buffer): { lines: Buffer[]; rest: Buffer } {
  const lines: Buffer[] = [];
  let start = 0;
  let i: number;
  while ((i = buf.indexOf(0x0a, start)) >= 0) {
    lines.push(buf.subarray(start, i));
    start = i + 1;
  }
  return { lines, rest: buf.subarray(start) };
}

/** Every entry of a whole log file's content, pieces joined. */
export function parseLog(buf: Buffer, final = true): LogEntry[] {
  const asm = new LogAssembler();
  const out: LogEntry[] = [];
  for (const line of splitLines(buf).lines) {
    const l = parseK8sLine(line);
    if (!l) continue;
    const e = asm.push(l);
    if (e) out.push(e);
  }
  if (final) out.push(...asm.flush());
  return out;
}

/** A Docker logs since/until value: unix seconds with an optional fraction (up to ns). */
export function parseUnixNs(v: string | undefined, field: string): bigint | undefined {
  if (v === undefined || v === '' || v === '0') return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v.trim());
  if (!m) throw invalid(`invalid value for ${field}: '${v}' (expected a unix timestamp such as 1700000000.5)`);
  return BigInt(m[1]) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
}

/** "all", "" or a count; Docker treats a negative or unparseable value as all. */
export function parseTail(v: string | undefined): number | undefined {
  if (v === undefined || v === '' || v === 'all') return undefined;
  if (!/^-?\d+$/.test(v)) throw invalid(`invalid value for tail: '${v}' (expected a number or "all")`);
  const n = Number(v);
  return n < 0 ? undefined : n;
}

export interface LogSelection {
  stdout: boolean;
  stderr: boolean;
  sinceNs?: bigint;
  untilNs?: bigint;
  tail?: number;
}

/** Apply stream, since/until and tail filters (tail counts after the other filters, as Docker does). */
export function selectEntries(entries: LogEntry[], sel: LogSelection): LogEntry[] {
  let out = entries.filter(
    (e) => ((e.stream === 1 && sel.stdout) || (e.stream === 2 && sel.stderr)) && (sel.sinceNs === undefined || e.timeNs >= sel.sinceNs) && (sel.untilNs === undefined || e.timeNs <= sel.untilNs),
  );
  if (sel.tail !== undefined) out = sel.tail === 0 ? [] : out.slice(-sel.tail);
  return out;
}

export interface ReadLogOptions extends LogSelection {
  follow: boolean;
  /** Resolves when the container has stopped: following ends after the rest is read. */
  stopped?: Promise<unknown>;
  signal?: AbortSignal;
}

/**
 * The container's log as entries: what is there now (filtered), then with `follow` whatever
 * conmon appends until the container stops or the signal aborts.
 */
export async function* readLog(path: string, opts: ReadLogOptions): AsyncIterable<LogEntry> {
  const initial = await fs.readFile(path).catch(() => Buffer.alloc(0));
  // Only complete lines are taken now; a follower picks the rest up from `offset`.
  const { rest } = splitLines(initial);
  const offset0 = initial.length - rest.length;
  const asm = new LogAssembler();
  const first: LogEntry[] = [];
  for (const line of splitLines(initial.subarray(0, offset0)).lines) {
    const l = parseK8sLine(line);
    const e = l && asm.push(l);
    if (e) first.push(e);
  }
  if (!opts.follow) first.push(...asm.flush());
  for (const e of selectEntries(first, opts)) yield e;
  if (!opts.follow) return;

  const inRange = (e: LogEntry) => ((e.stream === 1 && opts.stdout) || (e.stream === 2 && opts.stderr)) && (opts.sinceNs === undefined || e.timeNs >= opts.sinceNs);
  let offset = offset0;
  let carry = Buffer.alloc(0);
  let stopped = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  void opts.stopped?.then(() => {
    stopped = true;
    poke();
  });
  opts.signal?.addEventListener('abort', poke, { once: true });
  let watcher: ReturnType<typeof fsWatch> | undefined;
  try {
    watcher = fsWatch(path, () => poke());
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined; // the file may not exist yet; the timer below still polls
  }
  const timer = setInterval(poke, 250);
  try {
    for (;;) {
      const wasStopped = stopped;
      const fh = await fs.open(path, 'r').catch(() => undefined);
      if (fh) {
        try {
          const st = await fh.stat();
          if (st.size > offset) {
            const buf = Buffer.alloc(st.size - offset);
            const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
            offset += bytesRead;
            const { lines, rest: r } = splitLines(Buffer.concat([carry, buf.subarray(0, bytesRead)]));
            carry = Buffer.from(r);
            for (const line of lines) {
              const l = parseK8sLine(line);
              const e = l && asm.push(l);
              if (e && inRange(e)) {
                if (opts.untilNs !== undefined && e.timeNs > opts.untilNs) return;
                yield e;
              }
            }
          }
        } finally {
          await fh.close();
        }
      }
      if (opts.signal?.aborted) return;
      if (wasStopped) {
        for (const e of asm.flush()) if (inRange(e)) yield e;
        return;
      }
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    clearInterval(timer);
    watcher?.close();
  }
}
