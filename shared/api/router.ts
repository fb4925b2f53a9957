import type { ApiContext } from './context';

export type Handler = (ctx: ApiContext) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

/**
 * Maps method + path to a handler. Patterns use `:name` for one segment and `:name*`
 * for a greedy match, which image references need ("localhost:5000/a/b:tag").
 */
export class Router {
  private routes: Route[] = [];

  add(method: string, path: string, handler: Handler): this {
    const names: string[] = [];
    const re = path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)(\*)?/g, (_m, name: string, greedy?: string) => {
      names.push(name);
      return greedy ? '(.+?)' : '([^/]+)';
    });
    this.routes.push({ method: method.toUpperCase(), pattern: new RegExp(`^${re}$`), names, handler });
    return this;
  }

  get(path: string, h: Handler) { return this.add('GET', path, h); }
  post(path: string, h: Handler) { return this.add('POST', path, h); }
  put(path: string, h: Handler) { return this.add('PUT', path, h); }
  delete(path: string, h: Handler) { return this.add('DELETE', path, h); }
  head(path: string, h: Handler) { return this.add('HEAD', path, h); }

  /** Returns the handler and decoded params, or 'method' when the path exists under another method. */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | 'method' | undefined {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      if (r.method !== method) {
        pathMatched = true;
        continue;
      }
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
      return { handler: r.handler, params };
    }
    return pathMatched ? 'method' : undefined;
  }
}
