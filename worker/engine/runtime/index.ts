export { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, normalizeCapability, computeCapabilities, capabilitiesFromMask } from './capabilities';
export { defaultSeccompProfile, type SeccompProfile } from './seccomp';
export { buildOciSpec, buildExecProcess, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, DEFAULT_SHM_SIZE, type OciSpec, type OciSpecInput, type OciMount, type OciProcess, type OciRlimit, type NamespaceMode } from './spec';
export * as cgroups from './cgroups';
export { decideRuntime, selectRuntime, findExecutable, HUGETLB_FIX, type RuntimeName, type RuntimeProbe, type RuntimeDecision } from './select';
export { OciRuntime, parseSignal, SIGNALS, type OciState } from './oci';
export { conmonCreate, ConmonExec, RuntimeCreateError, resizeTerminal, processAlive, type ConmonPaths } from './conmon';
export { AttachConnection, type OutputChunk } from './attach';
export { SeccompCache, SECCOMP_BPF_ANNOTATION } from './seccomp-cache';
