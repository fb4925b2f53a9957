// ShoalError <-> gRPC status, translated here and nowhere else (DESIGN principle 6).
// The ShoalError code also rides in a trailer so that codes gRPC has no twin for
// (CONFLICT vs ABORTED, NOT_MODIFIED) come back exactly as they left.
import { Metadata, status as Status, type StatusObject } from '@grpc/grpc-js';
import { errorMessage, isShoalError, ShoalError, type ErrorCode } from '../errors';

const CODE_TRAILER = 'shoal-error-code';

export const GRPC_STATUS: Record<ErrorCode, Status> = {
  INVALID_ARGUMENT: Status.INVALID_ARGUMENT,
  NOT_FOUND: Status.NOT_FOUND,
  CONFLICT: Status.ABORTED,
  ALREADY_EXISTS: Status.ALREADY_EXISTS,
  FAILED_PRECONDITION: Status.FAILED_PRECONDITION,
  PERMISSION_DENIED: Status.PERMISSION_DENIED,
  UNAVAILABLE: Status.UNAVAILABLE,
  NOT_MODIFIED: Status.FAILED_PRECONDITION,
  NOT_IMPLEMENTED: Status.UNIMPLEMENTED,
  CANCELLED: Status.CANCELLED,
  INTERNAL: Status.INTERNAL,
};

/** For a status from a peer that is not shoal (or a transport failure). */
const FROM_STATUS: Partial<Record<Status, ErrorCode>> = {
  [Status.CANCELLED]: 'CANCELLED',
  [Status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [Status.OUT_OF_RANGE]: 'INVALID_ARGUMENT',
  [Status.NOT_FOUND]: 'NOT_FOUND',
  [Status.ALREADY_EXISTS]: 'ALREADY_EXISTS',
  [Status.ABORTED]: 'CONFLICT',
  [Status.FAILED_PRECONDITION]: 'FAILED_PRECONDITION',
  [Status.PERMISSION_DENIED]: 'PERMISSION_DENIED',
  [Status.UNAUTHENTICATED]: 'PERMISSION_DENIED',
  [Status.UNAVAILABLE]: 'UNAVAILABLE',
  [Status.DEADLINE_EXCEEDED]: 'UNAVAILABLE',
  [Status.RESOURCE_EXHAUSTED]: 'UNAVAILABLE',
  [Status.UNIMPLEMENTED]: 'NOT_IMPLEMENTED',
};

const KNOWN_CODES = new Set<string>(Object.keys(GRPC_STATUS));

/** The status a server sends for an error thrown by a handler. Non-ShoalErrors are INTERNAL. */
export function toGrpcStatus(err: unknown): StatusObject {
  const code: ErrorCode = isShoalError(err) ? err.code : 'INTERNAL';
  const metadata = new Metadata();
  metadata.set(CODE_TRAILER, code);
  return { code: GRPC_STATUS[code], details: isShoalError(err) ? err.message : `internal error: ${errorMessage(err)}`, metadata };
}

/** A ShoalError for what a client call failed with (a status from the server, or a local error). */
export function fromGrpcError(err: unknown): ShoalError {
  if (isShoalError(err)) return err;
  const e = err as Partial<StatusObject> & { message?: string };
  if (typeof e?.code !== 'number') return new ShoalError('INTERNAL', errorMessage(err), { cause: err });
  const sent = e.metadata instanceof Metadata ? e.metadata.get(CODE_TRAILER)[0] : undefined;
  const code: ErrorCode = typeof sent === 'string' && KNOWN_CODES.has(sent) ? (sent as ErrorCode) : FROM_STATUS[e.code as Status] ?? 'INTERNAL';
  return new ShoalError(code, e.details || errorMessage(err), { cause: err });
}
