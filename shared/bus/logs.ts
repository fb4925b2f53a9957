// The log request protocol on the bus. A manager asks each node that ran a service's tasks for
// their logs; the node streams the lines to the request's reply subject and ends with a marker.
// A follow request lives while the manager sends keepalives, and ends on cancel.
import { randomBytes } from 'node:crypto';

export interface LogRequest {
  id: string;
  taskIds: string[];
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Docker's since (unix seconds, fractional) and tail ("all" or a count), as the API takes them. */
  since?: string;
  tail?: string;
}

export type LogReply =
  | { kind: 'line'; nodeId: string; taskId: string; stream: 1 | 2; /** nanoseconds since the epoch */ timeNs: string; /** base64 */ data: string }
  | { kind: 'end'; nodeId: string; error?: string };

export type LogControl = { kind: 'keepalive' } | { kind: 'cancel' };

/** A follow request without a keepalive for this long is abandoned by the node. */
export const LOG_KEEPALIVE_MS = 5000;
export const LOG_ABANDON_MS = 3 * LOG_KEEPALIVE_MS;

export const newLogRequestId = () => randomBytes(12).toString('hex');
export const logRequestSubject = (nodeId: string) => `shoal.logreq.${nodeId}`;
export const logReplySubject = (requestId: string) => `shoal.logreply.${requestId}`;
export const logControlSubject = (requestId: string) => `shoal.logctl.${requestId}`;
