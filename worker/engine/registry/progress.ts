// The JSON progress messages dockerd streams for pull and push (one object per line).
import { errorMessage } from '../../../shared/errors';

export interface ProgressDetail {
  current?: number;
  total?: number;
}

export interface ProgressMessage {
  status?: string;
  id?: string;
  progressDetail?: ProgressDetail;
  progress?: string;
  aux?: Record<string, unknown>;
  errorDetail?: { message: string; code?: number };
  error?: string;
}

/** The 12-hex short form used as the per-layer id. */
export function shortDigest(digest: string): string {
  return digest.replace(/^[a-z0-9]+:/, '').slice(0, 12);
}

export const status = (s: string, id?: string): ProgressMessage => (id === undefined ? { status: s } : { status: s, id });

/** A per-layer step with no byte counts ("Pulling fs layer", "Pushed" ...). */
export const layerStatus = (s: string, id: string): ProgressMessage => ({ status: s, progressDetail: {}, id });

/** A per-layer byte count ("Downloading", "Extracting", "Pushing"), with docker's text bar. */
export function layerProgress(s: string, id: string, current: number, total: number): ProgressMessage {
  const detail: ProgressDetail = total > 0 ? { current, total } : { current };
  return { status: s, progressDetail: detail, progress: progressBar(current, total), id };
}

export const auxMessage = (aux: Record<string, unknown>): ProgressMessage => ({ progressDetail: {}, aux });

/** How dockerd reports an error that happens once the stream has started. */
export function errorMessageOf(err: unknown): ProgressMessage {
  const message = errorMessage(err);
  return { errorDetail: { message }, error: message };
}

/** Decimal sizes with three significant digits, as docker prints them ("2.15MB", "527B"). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** "[=====>      ]  1.2MB/2.5MB" (a 50-column bar); just the counts when the total is unknown. */
export function progressBar(current: number, total: number): string {
  if (!(total > 0)) return humanSize(current);
  const width = 50;
  const filled = Math.min(width, Math.floor((current / total) * width));
  const bar = filled >= width ? '='.repeat(width) : '='.repeat(filled) + '>' + ' '.repeat(width - filled - 1);
  return `[${bar}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

/** Throttles byte-count messages: at most one per `ms` (and always the last one). */
export class Throttle {
  private last = 0;
  constructor(private readonly ms = 100) {}
  ready(final = false): boolean {
    const now = Date.now();
    if (final || now - this.last >= this.ms) {
      this.last = now;
      return true;
    }
    return false;
  }
}
