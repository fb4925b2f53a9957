import { FlagError } from './errors';

/** -f key=value flags into the API's filters JSON ({"key":{"value":true}}, as docker sends it). */
export function filtersJson(values: string[] | undefined, flag = '-f, --filter'): string | undefined {
  if (!values || !values.length) return undefined;
  const out: Record<string, Record<string, boolean>> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new FlagError(flag, v, 'bad format of filter (expected name=value)');
    const key = v.slice(0, i).trim().toLowerCase();
    const value = v.slice(i + 1).trim();
    (out[key] ??= {})[value] = true;
  }
  return JSON.stringify(out);
}

/** Merge extra filters (e.g. prune's dangling=) into a filters JSON string. */
export function addFilter(json: string | undefined, key: string, value: string): string {
  const out = (json ? JSON.parse(json) : {}) as Record<string, Record<string, boolean>>;
  (out[key] ??= {})[value] = true;
  return JSON.stringify(out);
}
