// The multi-host lab's public surface: the CLI (deploy/lab) and test helpers use this.
export { Lab, labName, SHOALD, REGISTRY_BIN, type UpOptions, type HostStatus, type ExecCommand, type ExecResult } from './lab';
export { type HostState, type LabState } from './state';
export { type HostRole, DEFAULT_LAB, REGISTRY_HOST, REGISTRY_PORT, RUN_ROOT, LIB_ROOT } from './plan';
export { SWARM_PORT } from './swarm';
