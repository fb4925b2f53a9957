// Turning registry answers and network failures into typed errors with docker's wording.
import { ShoalError, type ErrorCode } from '../../../shared/errors';

/** One entry of a registry's {"errors": [...]} body. */
export interface RegistryErrorEntry {
  code: string;
  message?: string;
  detail?: unknown;
}

/** An error answer from a registry: its HTTP status and its error codes. */
export class RegistryError extends ShoalError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly status: number,
    readonly entries: RegistryErrorEntry[],
  ) {
    super(code, message);
  }

  has(code: string): boolean {
    return this.entries.some((e) => e.code === code);
  }
}

/** Parse a registry error body; anything unparseable becomes one entry with the status text. */
export function parseErrorBody(status: number, body: string): RegistryErrorEntry[] {
  try {
    const obj = JSON.parse(body) as { errors?: RegistryErrorEntry[]; details?: string };
    if (Array.isArray(obj.errors) && obj.errors.length > 0) return obj.errors.filter((e) => e && typeof e.code === 'string');
    if (typeof obj.details === 'string') return [{ code: 'UNKNOWN', message: obj.details }];
  } catch {
    /* not JSON */
  }
  const text = body.trim().split('\n')[0]?.slice(0, 200);
  return [{ code: status === 401 ? 'UNAUTHORIZED' : status === 404 ? 'NOT_FOUND' : 'UNKNOWN', message: text || `HTTP ${status}` }];
}

/** "manifest unknown: manifest unknown", as docker's distribution client prints an error entry. */
export function describeEntries(entries: RegistryErrorEntry[]): string {
  return entries.map((e) => `${e.code.toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}`.replace(/: $/, '')).join('; ');
}

export function codeForStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'PERMISSION_DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 400 || status === 405 || status === 416) return 'INVALID_ARGUMENT';
  if (status === 409) return 'CONFLICT';
  if (status === 429 || status >= 500) return 'UNAVAILABLE';
  return 'INTERNAL';
}

/** A failure to reach a registry, worded as docker words it ("dial tcp ...: connection refused"). */
export function networkError(method: string, url: string, err: unknown, signal?: AbortSignal): ShoalError {
  const verb = method.charAt(0) + method.slice(1).toLowerCase();
  if (signal?.aborted) return new ShoalError('CANCELLED', `${verb} "${url}": context canceled`, { cause: err });
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string; name?: string } };
  const cause = e?.cause;
  const host = (() => {
    try {
      const u = new URL(url);
      return u.port ? u.host : `${u.hostname}:${u.protocol === 'https:' ? 443 : 80}`;
    } catch {
      return url;
    }
  })();
  let what: string;
  switch (cause?.code) {
    case 'ECONNREFUSED':
      what = `dial tcp ${host}: connect: connection refused`;
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      what = `dial tcp: lookup ${host.replace(/:\d+$/, '')}: no such host`;
      break;
    case 'ECONNRESET':
      what = `read tcp ${host}: connection reset by peer`;
      break;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      what = `dial tcp ${host}: connect: ${cause.code === 'EHOSTUNREACH' ? 'no route to host' : 'network is unreachable'}`;
      break;
    case 'UND_ERR_CONNECT_TIMEOUT':
      what = `dial tcp ${host}: i/o timeout`;
      break;
    default:
      if (e?.name === 'TimeoutError' || cause?.name === 'TimeoutError') what = `net/http: request canceled (Client.Timeout exceeded while awaiting headers)`;
      else if (cause?.code?.startsWith('ERR_TLS') || /certificate|SSL|TLS/i.test(cause?.message ?? '')) what = `tls: ${cause?.message}`;
      else what = cause?.message ?? e?.message ?? String(err);
  }
  return new ShoalError('UNAVAILABLE', `${verb} "${url}": ${what}`, { cause: err });
}
