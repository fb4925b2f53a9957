// Every subject on the bus is named here, so publishers and subscribers cannot drift apart.
//   shoal.events.<type>                 cluster events (Docker /events types, plus task)
//   shoal.logs.<serviceId>.<taskId>     container log lines shipped from workers
import { invalid } from '../errors';

export const EVENT_TYPES = ['container', 'image', 'network', 'volume', 'daemon', 'service', 'node', 'task', 'secret', 'config'] as const;
export type BusEventType = (typeof EVENT_TYPES)[number];

const EVENTS = 'shoal.events';
const LOGS = 'shoal.logs';

/** Every event type: subscribe to this for `docker events`. */
export const ALL_EVENTS = `${EVENTS}.>`;
/** Every log line of every service. */
export const ALL_LOGS = `${LOGS}.>`;

// A subject token: no dots (separators), wildcards or white space.
function token(field: string, v: string): string {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(v)) throw invalid(`${field} "${String(v)}" cannot be part of a bus subject (letters, digits, '_' and '-' only)`);
  return v;
}

export function eventSubject(type: BusEventType): string {
  if (!(EVENT_TYPES as readonly string[]).includes(type)) throw invalid(`unknown event type "${String(type)}" (want one of ${EVENT_TYPES.join(', ')})`);
  return `${EVENTS}.${type}`;
}

export function logSubject(serviceId: string, taskId: string): string {
  return `${LOGS}.${token('service ID', serviceId)}.${token('task ID', taskId)}`;
}

/** Every task's logs of one service (`docker service logs`). */
export function serviceLogsSubject(serviceId: string): string {
  return `${LOGS}.${token('service ID', serviceId)}.*`;
}

/** The service and task a log subject names, or undefined for another subject. */
export function parseLogSubject(subject: string): { serviceId: string; taskId: string } | undefined {
  const m = /^shoal\.logs\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(subject);
  return m ? { serviceId: m[1], taskId: m[2] } : undefined;
}
