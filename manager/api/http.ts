// Request plumbing shared by the control routes: the manager-only guard on every route and the
// version query parameter that every update carries.
import type { ApiContext, Handler, Router } from '../../shared/api';
import { invalid } from '../../shared/errors';
import { requireManager, type ControlContext } from './context';

export type Route = (path: string, handler: Handler) => void;

export interface ControlRouter {
  get: Route;
  post: Route;
  delete: Route;
}

/** Routes that answer dockerd's 503 unless this node is a manager. */
export function managerOnly(router: Router, c: ControlContext): ControlRouter {
  const wrap = (h: Handler): Handler => async (ctx) => {
    requireManager(c);
    // Without quorum, answers come from this manager's own copy of the store: say so.
    const stale = c.readWarning?.();
    if (stale) ctx.res?.setHeader('Warning', `199 shoal ${JSON.stringify(stale)}`);
    await h(ctx);
  };
  return {
    get: (p, h) => void router.get(p, wrap(h)),
    post: (p, h) => void router.post(p, wrap(h)),
    delete: (p, h) => void router.delete(p, wrap(h)),
  };
}

/** `?version=N`: the object's Version.Index the client read; required, as dockerd requires it. */
export function versionParam(ctx: ApiContext, noun: string): number {
  const raw = ctx.query.str('version') ?? '';
  const n = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!(n > 0)) {
    const problem = raw === '' ? 'the version query parameter is required' : 'it must be a positive integer';
    throw invalid(`invalid ${noun} version '${raw}': ${problem}; read the ${noun}'s current Version.Index (docker ${noun} inspect) and send it with the update`);
  }
  return n;
}

/** dockerd answers these with 200 and no body (the server's default would be 204). */
export function ok(ctx: ApiContext): void {
  ctx.send(200);
}
