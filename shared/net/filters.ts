// GET /networks filters, for local (bridge) and swarm (overlay) networks alike. Pure.
import { invalid } from '../errors';

/** What the filters look at. */
export interface NetworkFacts {
  name: string;
  id: string;
  labels: Record<string, string>;
  driver: string;
  predefined: boolean;
  /** Absent: local. */
  scope?: 'local' | 'swarm';
}

const truthy = (v: string) => {
  if (['true', '1'].includes(v.toLowerCase())) return true;
  if (['false', '0'].includes(v.toLowerCase())) return false;
  throw invalid(`invalid filter 'dangling=${v}': expected true or false`);
};

export function labelMatches(labels: Record<string, string>, spec: string): boolean {
  const i = spec.indexOf('=');
  return i < 0 ? spec in labels : labels[spec.slice(0, i)] === spec.slice(i + 1);
}

const NETWORK_FILTERS = new Set(['name', 'id', 'label', 'driver', 'type', 'dangling', 'scope']);

/** GET /networks filters. `inUse`: the network has endpoints. */
export function networkMatches(n: NetworkFacts, filters: Map<string, string[]>, inUse: boolean): boolean {
  for (const [key, values] of filters) {
    if (!NETWORK_FILTERS.has(key)) throw invalid(`invalid filter '${key}'`);
    if (!values.length) continue;
    const ok = values.some((v) => {
      switch (key) {
        case 'name': return n.name.includes(v);
        case 'id': return n.id.startsWith(v) || n.id.includes(v);
        case 'label': return labelMatches(n.labels, v);
        case 'driver': return n.driver === v;
        case 'scope': return v === (n.scope ?? 'local');
        case 'type':
          if (v !== 'custom' && v !== 'builtin') throw invalid(`invalid filter 'type=${v}': expected custom or builtin`);
          return (v === 'builtin') === n.predefined;
        case 'dangling': return truthy(v) ? !inUse && !n.predefined : inUse || n.predefined;
        default: return true;
      }
    });
    if (!ok) return false;
  }
  return true;
}
