import { rfc3339NanoFixed } from './human';

/** One message of a progress stream (pull, push, build, load, import). */
export interface JsonMessage {
  status?: string;
  id?: string;
  from?: string;
  stream?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: unknown;
  time?: number;
  timeNano?: number;
}

export class StreamError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'StreamError';
  }
}

/**
 * Render one message as docker does on a non-terminal: status lines, build text as is,
 * progress-bar updates dropped. Throws StreamError for an error message; returns '' for aux.
 */
export function renderMessage(m: JsonMessage): string {
  if (m.errorDetail || m.error) throw new StreamError(m.errorDetail?.message || m.error || 'unknown error', m.errorDetail?.code);
  if (m.aux !== undefined && m.aux !== null) return '';
  const d = m.progressDetail;
  if (d && ((d.current ?? 0) > 0 || (d.total ?? 0) > 0)) return '';
  let out = '';
  if (m.timeNano) out += `${rfc3339NanoFixed(BigInt(m.timeNano))} `;
  else if (m.time) out += `${rfc3339NanoFixed(BigInt(m.time) * 1_000_000_000n)} `;
  if (m.id) out += `${m.id}: `;
  if (m.from) out += `(from ${m.from}) `;
  if (m.progress) out += `${m.status ?? ''} ${m.progress}`;
  else if (m.stream !== undefined && m.stream !== '') out += m.stream;
  else out += `${m.status ?? ''}\n`;
  return out;
}

export interface EventMessage {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
  scope?: string;
}

/** docker events' default line: time type action id (k=v, ...). */
export function renderEvent(e: EventMessage): string {
  let out = '';
  if (e.timeNano) out += `${rfc3339NanoFixed(BigInt(e.timeNano))} `;
  else if (e.time) out += `${rfc3339NanoFixed(BigInt(e.time) * 1_000_000_000n)} `;
  out += `${e.Type ?? ''} ${e.Action ?? ''} ${e.Actor?.ID ?? ''}`;
  const attrs = e.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length) out += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return `${out}\n`;
}
