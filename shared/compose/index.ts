// Compose 3.x stack files -> the Docker Engine API objects a `stack deploy` creates.
export { loadStack, parseStackFiles, stackFileData, type LoadStackOptions, type ParsedStackFile } from './load';
export { StackError, isStackError, formatStackErrors, formatIssue, type StackIssue, type Pos } from './errors';
export { formatStackWarnings, type StackWarning } from './warnings';
export { NAMESPACE_LABEL, IMAGE_LABEL, scope } from './convert';
export { substitute } from './interpolate';
export { parsePortSpec } from './ports';
export { parseVolumeSpec, type VolumeMountSpec } from './mounts';
export type {
  StackPlan,
  PlannedService,
  PlannedNetwork,
  PlannedVolume,
  PlannedSecret,
  PlannedConfig,
  SecretSpec,
  ConfigSpec,
} from './types';
