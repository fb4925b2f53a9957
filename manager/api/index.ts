// The manager's control API: the Docker Engine API endpoints for nodes, services, tasks, secrets and configs
// over the cluster store. The daemon mounts it with registerControlRoutes(router, context).
import type { Router } from '../../shared/api';
import type { ControlContext } from './context';
import { registerConfigRoutes } from './configs';
import { registerLogRoutes } from './logs';
import { registerNodeRoutes } from './nodes';
import { registerSecretRoutes } from './secrets';
import { registerServiceRoutes } from './services';
import { registerTaskRoutes } from './tasks';

export function registerControlRoutes(router: Router, ctx: ControlContext): void {
  registerNodeRoutes(router, ctx);
  registerServiceRoutes(router, ctx);
  registerTaskRoutes(router, ctx);
  registerLogRoutes(router, ctx);
  registerSecretRoutes(router, ctx);
  registerConfigRoutes(router, ctx);
}

export { requireManager, type ControlContext, type SwarmRole, type LogSource, type LogSelector, type LogOptions, type LogLine } from './context';
export { checkFilterKeys, labelMap, matchLabels, type Filters } from './filters';
export { pickByRef, resolveRef, type Namer } from './lookup';
export { nodeFilter, findNode, nodeRole, nodeChanges } from './nodes';
export { serviceFilter, findService, serviceChanges } from './services';
export { taskFilter, findTask, taskName, type TaskWorld } from './tasks';
export { serviceStatus } from './status';
export { checkPortConflicts } from './references';
export { payloadFilter, inUseMessage, findPayload, SECRETS, type PayloadKind } from './secrets';
export { CONFIGS } from './configs';
export { logOptions, parseSince, formatLogLine, detailsOf, fixedTimestamp, queryEscape } from './logs';
