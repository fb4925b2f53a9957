export { Supervisor, type SupervisorOptions, type SupervisorState, type SupervisorEvent } from './supervisor';
export { killOrphan, readPidFile, isSameProcess, processArgv, type PidRecord } from './pidfile';
