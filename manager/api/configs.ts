// /configs: the routes secrets.ts serves, for configs: data kept and returned in clear.
import type { Router } from '../../shared/api';
import { newConfig } from '../secrets';
import type { ControlContext } from './context';
import { registerPayloadRoutes, type PayloadKind } from './secrets';

export const CONFIGS: PayloadKind = {
  noun: 'config',
  kind: 'configs',
  create: async (spec, id, now) => newConfig(spec, id, now),
  refs: (s) => (s.Spec.TaskTemplate?.ContainerSpec?.Configs ?? []).map((r) => r.ConfigID ?? ''),
};

export function registerConfigRoutes(router: Router, c: ControlContext): void {
  registerPayloadRoutes(router, c, CONFIGS);
}
