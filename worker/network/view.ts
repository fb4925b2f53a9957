// Docker API shapes of networks and endpoints, and list filters. Pure.
import type { EndpointSettings } from '../engine/contracts';
import { invalid } from '../../shared/errors';
import { shortId } from '../../shared/ids';
import { prefixLength } from '../../shared/net/ipam';
import type { Attachment, ContainerRecord, NetworkRecord } from './state';

/** The names a container answers to on a user-defined network (Docker's DNSNames). */
export function dnsNames(rec: ContainerRecord, att: Attachment): string[] {
  return [...new Set([rec.name, ...att.aliases, shortId(rec.id), rec.hostname].filter((s) => s))];
}

export function isUserDefined(n: NetworkRecord): boolean {
  return !n.predefined;
}

export function endpointSettings(n: NetworkRecord, rec: ContainerRecord, att: Attachment): EndpointSettings {
  const live = att.ip !== undefined;
  return {
    IPAMConfig: att.requestedIp ? { IPv4Address: att.requestedIp } : null,
    Links: att.links?.length ? att.links : null,
    Aliases: att.aliases.length ? att.aliases : null,
    MacAddress: att.mac ?? '',
    NetworkID: n.id,
    EndpointID: live ? att.endpointId : '',
    Gateway: live && n.pool ? n.pool.gateway : '',
    IPAddress: att.ip ?? '',
    IPPrefixLen: live && n.pool ? prefixLength(n.pool) : 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: isUserDefined(n) && n.driver === 'bridge' ? dnsNames(rec, att) : null,
  };
}

export interface NetworkContainerJson {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

/** Live endpoints of a network, keyed by container ID (NetworkResource.Containers). */
export function networkContainers(n: NetworkRecord, records: Iterable<ContainerRecord>): Record<string, NetworkContainerJson> {
  const out: Record<string, NetworkContainerJson> = {};
  for (const rec of records) {
    if (!rec.live) continue;
    for (const att of rec.attachments) {
      if (att.networkId !== n.id) continue;
      out[rec.id] = {
        Name: rec.name,
        EndpointID: att.endpointId,
        MacAddress: att.mac ?? '',
        IPv4Address: att.ip && n.pool ? `${att.ip}/${prefixLength(n.pool)}` : '',
        IPv6Address: '',
      };
    }
  }
  return out;
}

export function networkJson(n: NetworkRecord, containers: Record<string, NetworkContainerJson>): Record<string, unknown> {
  const config = n.pool ? [{ Subnet: n.pool.subnet, Gateway: n.pool.gateway, ...(n.pool.ipRange ? { IPRange: n.pool.ipRange } : {}), ...(Object.keys(n.pool.aux).length ? { AuxiliaryAddresses: n.pool.aux } : {}) }] : [];
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv4: n.driver === 'bridge',
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: Object.keys(n.ipamOptions).length ? n.ipamOptions : null, Config: config },
    Internal: n.internal,
    Attachable: n.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: n.options,
    Labels: n.labels,
  };
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
export function networkMatches(n: NetworkRecord, filters: Map<string, string[]>, inUse: boolean): boolean {
  for (const [key, values] of filters) {
    if (!NETWORK_FILTERS.has(key)) throw invalid(`invalid filter '${key}'`);
    if (!values.length) continue;
    const ok = values.some((v) => {
      switch (key) {
        case 'name': return n.name.includes(v);
        case 'id': return n.id.startsWith(v) || n.id.includes(v);
        case 'label': return labelMatches(n.labels, v);
        case 'driver': return n.driver === v;
        case 'scope': return v === 'local';
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
