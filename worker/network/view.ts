// Docker API shapes of networks and endpoints, and list filters. Pure.
import type { EndpointSettings } from '../engine/contracts';
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

export { labelMatches, networkMatches } from '../../shared/net/filters';
