// etcd and gRPC errors translated once into ShoalError codes (DESIGN principle 6). Callers above
// the store see UNAVAILABLE for "try again later", never an etcd3 class.
import { ShoalError, isShoalError, type ErrorCode } from '../../shared/errors';

// Server-side messages (etcd 3.4 rpctypes) by what they mean to a caller.
const MESSAGES: Array<[RegExp, ErrorCode, string]> = [
  [/required revision has been compacted/, 'FAILED_PRECONDITION', 'the requested revision has been compacted'],
  [/future revision/, 'FAILED_PRECONDITION', 'the requested revision is newer than the store'],
  [/too many operations in txn request/, 'INVALID_ARGUMENT', 'too many operations in one transaction'],
  [/duplicate key given in txn request/, 'INVALID_ARGUMENT', 'one transaction changes the same key twice'],
  [/request is too large|message larger than max|Received message larger/, 'INVALID_ARGUMENT', 'request larger than the store accepts'],
  [/database space exceeded/, 'UNAVAILABLE', 'the cluster store is full (etcd space quota exceeded)'],
  [/permission denied|invalid auth token|authentication failed/, 'PERMISSION_DENIED', 'the cluster store refused the credentials'],
  [/requested lease not found/, 'NOT_FOUND', 'the lease has expired'],
  [/member ID already exist|Peer URLs already exists/, 'ALREADY_EXISTS', 'that etcd member already exists'],
  [/member not found/, 'NOT_FOUND', 'no such etcd member'],
  [/re-configuration failed due to not enough started members|unhealthy cluster/, 'FAILED_PRECONDITION', 'the etcd cluster is not healthy enough to change membership'],
  [/no leader|leader changed|request timed out|too many requests|not capable|stopped|timeout|timed out/, 'UNAVAILABLE', 'the cluster store is unavailable'],
];

// gRPC status codes (when the message says nothing more specific).
const GRPC_CODES: Record<number, ErrorCode> = {
  1: 'CANCELLED',
  3: 'INVALID_ARGUMENT',
  4: 'UNAVAILABLE', // deadline exceeded: the store did not answer in time
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'UNAVAILABLE', // resource exhausted
  9: 'FAILED_PRECONDITION',
  10: 'CONFLICT',
  11: 'FAILED_PRECONDITION',
  12: 'NOT_IMPLEMENTED',
  14: 'UNAVAILABLE',
  16: 'PERMISSION_DENIED',
};

// etcd3 class names that mean the connection, not the request, failed.
const UNAVAILABLE_CLASSES = new Set([
  'GRPCUnavailableError',
  'GRPCDeadlineExceededError',
  'GRPCCancelledError',
  'GRPCResourceExhastedError',
  'ClientClosedError',
  'BrokenCircuitError',
  'EtcdWatchStreamEnded',
  'TaskCancelledError',
]);

/** Translate anything an etcd3 call threw; `what` says what the caller was doing. */
export function translateEtcdError(err: unknown, what: string): ShoalError {
  if (isShoalError(err)) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const msg = e.message;
  for (const [re, code, text] of MESSAGES) {
    if (re.test(msg)) return new ShoalError(code, `${what}: ${text}`, { cause: e });
  }
  if (UNAVAILABLE_CLASSES.has(e.constructor.name) || /ECONNREFUSED|No connection established|Connection dropped|UNAVAILABLE|DEADLINE_EXCEEDED/.test(msg)) {
    return new ShoalError('UNAVAILABLE', `${what}: the cluster store is unavailable (${firstLine(msg)})`, { cause: e });
  }
  const grpcCode = (e as { code?: unknown }).code;
  if (typeof grpcCode === 'number' && GRPC_CODES[grpcCode]) return new ShoalError(GRPC_CODES[grpcCode], `${what}: ${firstLine(msg)}`, { cause: e });
  return new ShoalError('INTERNAL', `${what}: ${firstLine(msg)}`, { cause: e });
}

/** True for the error etcd gives when a watch or read asks for a compacted revision. */
export function isCompacted(err: unknown): boolean {
  return err instanceof Error && /required revision has been compacted/.test(err.message);
}

/** True when the request surely never reached a server, so trying it again cannot apply it twice. */
export function neverSent(err: Error): boolean {
  return /ECONNREFUSED|No connection established|ENOTFOUND|EHOSTUNREACH|Channel closed before call started/.test(err.message) || err.constructor.name === 'BrokenCircuitError';
}

function firstLine(s: string): string {
  return s.split('\n')[0].replace(/^\w*Error: /, '').slice(0, 300);
}
