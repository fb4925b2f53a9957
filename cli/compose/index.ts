// shoal compose: stack files run as plain containers on one node, as docker compose runs them.
export { chooseFiles, projectName, normalizeProjectName, ProjectError, DEFAULT_FILES, type FileChoice } from './project';
export { loadProject, type LoadOptions } from './load';
export { composeProject, containerRequest, restartPolicy, fileTarget, OneNodeError, type ComposeProject, type ComposeService, type ComposeNetwork, type ComposeVolume } from './model';
export { readExtras, oneNodeWarnings, oneNodeErrors, type ComposeExtras, type DependsCondition } from './extras';
export { configHash, stableStringify } from './hash';
export { planService, orphans, type ObservedContainer, type ContainerAction, type DesiredService } from './plan';
export { inDependencyOrder, withDependencies, type Dependent } from './order';
export { up, type UpOptions } from './up';
export { down, stop, start, serviceGroups, parseDependsLabel, type DownOptions } from './lifecycle';
export { composePsRow, COMPOSE_PS_TABLE, COMPOSE_PS_HEADERS } from './ps';
export { LogPrinter, LineSplitter, logPrefix } from './logs';
export { streamLogs } from './follow';
export { ProjectApi } from './engine';
export * as labels from './labels';
