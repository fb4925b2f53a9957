// NATS client errors translated once into ShoalError codes (DESIGN principle 6).
import { ShoalError, isShoalError, type ErrorCode } from '../errors';

const CODES: Record<string, ErrorCode> = {
  CONNECTION_CLOSED: 'UNAVAILABLE',
  CONNECTION_DRAINING: 'UNAVAILABLE',
  CONNECTION_REFUSED: 'UNAVAILABLE',
  CONNECTION_TIMEOUT: 'UNAVAILABLE',
  DISCONNECT: 'UNAVAILABLE',
  TIMEOUT: 'UNAVAILABLE',
  '503': 'UNAVAILABLE',
  BAD_SUBJECT: 'INVALID_ARGUMENT',
  BAD_JSON: 'INVALID_ARGUMENT',
  BAD_PAYLOAD: 'INVALID_ARGUMENT',
  INVALID_PAYLOAD: 'INVALID_ARGUMENT',
  MAX_PAYLOAD_EXCEEDED: 'INVALID_ARGUMENT',
  AUTHORIZATION_VIOLATION: 'PERMISSION_DENIED',
  AUTHENTICATION_EXPIRED: 'PERMISSION_DENIED',
  PERMISSIONS_VIOLATION: 'PERMISSION_DENIED',
  BAD_AUTHENTICATION: 'PERMISSION_DENIED',
  CANCELLED: 'CANCELLED',
};

export function translateNatsError(err: unknown, what: string): ShoalError {
  if (isShoalError(err)) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const natsCode = (e as { code?: unknown }).code;
  let code: ErrorCode = typeof natsCode === 'string' && CODES[natsCode] ? CODES[natsCode] : 'INTERNAL';
  if (code === 'INTERNAL' && /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH/.test(e.message)) code = 'UNAVAILABLE';
  const text = code === 'UNAVAILABLE' ? `the event bus is unavailable (${e.message})` : e.message;
  return new ShoalError(code, `${what}: ${text}`, { cause: e });
}
