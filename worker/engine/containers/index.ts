export { ContainerManager, type ContainerManagerOptions } from './manager';
export { AttachSession, type AttachOptions } from './attach';
export type { ExecConfig } from './exec';
export type { LogEntry } from './logs';
export type { ContainerRecord, ContainerConfig, HostConfig, CreateRequest, ContainerState, WaitCondition, WaitResult } from './types';
export { parseDetachKeys, DetachScanner, DEFAULT_DETACH_KEYS } from './detach';
export { encodePathStat, type PathStat } from './archive';
