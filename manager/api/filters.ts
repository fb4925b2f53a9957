// List filters as dockerd reads them for swarm objects: unknown keys are refused, values of one
// key are alternatives (any may match), different keys must all match, and label filters
// ("k" or "k=v") must all hold.
import { invalid } from '../../shared/errors';

export type Filters = Map<string, string[]>;

/** "invalid filter 'x'" for a key the list does not know. */
export function checkFilterKeys(filters: Filters, accepted: readonly string[]): void {
  for (const key of filters.keys()) if (!accepted.includes(key)) throw invalid(`invalid filter '${key}'`);
}

/** "k=v" and "k" as a map ("k" means: the label exists, any value). */
export function labelMap(values: readonly string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i < 0) out.set(v, '');
    else out.set(v.slice(0, i), v.slice(i + 1));
  }
  return out;
}

/** Every wanted label is present, with the wanted value when one is given. */
export function matchLabels(labels: Record<string, string> | undefined, wanted: Map<string, string>): boolean {
  for (const [k, v] of wanted) {
    const have = labels?.[k];
    if (have === undefined) return false;
    if (v !== '' && v !== have) return false;
  }
  return true;
}

/** No values, or `value` starts with one of them. */
export function anyPrefix(value: string | undefined, prefixes: readonly string[] | undefined): boolean {
  if (!prefixes?.length) return true;
  return value !== undefined && prefixes.some((p) => value.startsWith(p));
}

/** No values, or `value` is one of them. */
export function anyOf(value: string | undefined, values: readonly string[] | undefined): boolean {
  if (!values?.length) return true;
  return value !== undefined && values.includes(value);
}
