// One set of error classes with codes, translated once at each edge
// (HTTP status here; gRPC codes and etcd/NATS errors later).

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'PERMISSION_DENIED'
  | 'UNAVAILABLE'
  | 'NOT_MODIFIED'
  | 'NOT_IMPLEMENTED'
  | 'CANCELLED'
  | 'INTERNAL';

export class ShoalError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'ShoalError';
  }
}

export const invalid = (msg: string, cause?: unknown) => new ShoalError('INVALID_ARGUMENT', msg, { cause });
export const notFound = (msg: string) => new ShoalError('NOT_FOUND', msg);
export const conflict = (msg: string) => new ShoalError('CONFLICT', msg);
export const unavailable = (msg: string, cause?: unknown) => new ShoalError('UNAVAILABLE', msg, { cause });
export const internal = (msg: string, cause?: unknown) => new ShoalError('INTERNAL', msg, { cause });
export const notImplemented = (msg: string) => new ShoalError('NOT_IMPLEMENTED', msg);
export const precondition = (msg: string) => new ShoalError('FAILED_PRECONDITION', msg);

const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 409,
  PERMISSION_DENIED: 403,
  UNAVAILABLE: 503,
  NOT_MODIFIED: 304,
  NOT_IMPLEMENTED: 501,
  CANCELLED: 499,
  INTERNAL: 500,
};

export function httpStatus(err: unknown): number {
  return isShoalError(err) ? HTTP_STATUS[err.code] : 500;
}

export function isShoalError(err: unknown, code?: ErrorCode): err is ShoalError {
  return err instanceof ShoalError && (code === undefined || err.code === code);
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
