export { Bus, type BusTls, type BusOptions, type BusMessage, type MessageBus } from './bus';
export { EVENT_TYPES, ALL_EVENTS, ALL_LOGS, eventSubject, logSubject, serviceLogsSubject, parseLogSubject, type BusEventType } from './subjects';
export { translateNatsError } from './errors';
export { LOG_KEEPALIVE_MS, LOG_ABANDON_MS, newLogRequestId, logRequestSubject, logReplySubject, logControlSubject, type LogRequest, type LogReply, type LogControl } from './logs';
export { nodeBusTls } from './tls';
