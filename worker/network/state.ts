// The network manager's persistent state: one JSON file per network and per container endpoint set.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic, readJson } from '../../shared/fsutil';
import type { PortMap } from '../engine/contracts';
import type { Allocations, Pool, PoolRequest } from '../../shared/net/ipam';
import type { Binding } from './ports';

export type Driver = 'bridge' | 'host' | 'null' | 'overlay';

export interface NetworkRecord {
  id: string;
  name: string;
  driver: Driver;
  created: string;
  internal: boolean;
  attachable: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** bridge, host, none: made by the daemon, never removed. */
  predefined: boolean;
  /** Bridge device (driver bridge). */
  bridge?: string;
  pool?: Pool;
  /** IPAM.Config as the user gave it. */
  ipamConfig: PoolRequest[];
  ipamOptions: Record<string, string>;
  alloc?: Allocations;
  masquerade: boolean;
  /** Overlay networks (a swarm network this node takes part in): the VXLAN ID and the MTU. */
  vni?: number;
  mtu?: number;
  /** The tunnel's source: this node's address when it joined. */
  local?: string;
  /** The routing mesh's network, and this node's own address on it. */
  ingress?: boolean;
  meshAddr?: string;
}

export interface Attachment {
  networkId: string;
  endpointId: string;
  hostVeth: string;
  aliases: string[];
  /** IPAMConfig.IPv4Address. */
  requestedIp?: string;
  /** A plain container on a swarm network: the cluster's attachment holding its address, while plumbed. */
  swarmAttachment?: string;
  links?: string[];
  /** Set while the endpoint is plumbed into a live namespace. */
  ifname?: string;
  ip?: string;
  mac?: string;
}

export type Mode = 'bridge' | 'host' | 'none' | 'container';

export interface ContainerRecord {
  id: string;
  name: string;
  hostname: string;
  mode: Mode;
  /** mode container: the container whose namespace this one joins. */
  sharedWith?: string;
  netnsPath?: string;
  /** Runtime resources (netns, links, addresses, ports) exist. */
  live: boolean;
  attachments: Attachment[];
  /** Networks the user disconnected; a later setup does not re-join them from the container's config. */
  disconnected: string[];
  ports: Binding[];
  portBindings: PortMap;
  publishAll: boolean;
  exposedPorts: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  extraHosts: string[];
}

export class StateStore {
  constructor(readonly root: string) {}

  private dir(kind: 'networks' | 'containers'): string {
    return join(this.root, kind);
  }

  async init(): Promise<void> {
    await fs.mkdir(this.dir('networks'), { recursive: true, mode: 0o700 });
    await fs.mkdir(this.dir('containers'), { recursive: true, mode: 0o700 });
  }

  private async loadAll<T>(kind: 'networks' | 'containers'): Promise<T[]> {
    const out: T[] = [];
    for (const f of await fs.readdir(this.dir(kind))) {
      if (!f.endsWith('.json')) continue;
      const v = await readJson<T>(join(this.dir(kind), f));
      if (v) out.push(v);
    }
    return out;
  }

  loadNetworks(): Promise<NetworkRecord[]> {
    return this.loadAll<NetworkRecord>('networks');
  }
  loadContainers(): Promise<ContainerRecord[]> {
    return this.loadAll<ContainerRecord>('containers');
  }
  saveNetwork(n: NetworkRecord): Promise<void> {
    return writeJsonAtomic(join(this.dir('networks'), `${n.id}.json`), n);
  }
  saveContainer(c: ContainerRecord): Promise<void> {
    return writeJsonAtomic(join(this.dir('containers'), `${c.id}.json`), c);
  }
  async deleteNetwork(id: string): Promise<void> {
    await fs.rm(join(this.dir('networks'), `${id}.json`), { force: true });
  }
  async deleteContainer(id: string): Promise<void> {
    await fs.rm(join(this.dir('containers'), `${id}.json`), { force: true });
  }
}
