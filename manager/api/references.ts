// What a service spec refers to, checked against the store before the service is written:
// networks (names become IDs, as dockerd resolves them), secrets and configs (they must exist
// under the name given), and published ports (one ingress port belongs to one service).
import { invalid } from '../../shared/errors';
import type { EndpointPortConfig, Service, ServiceSpec } from '../../shared/swarm';
import type { ClusterStore, StoredObject } from '../store';
import { getById, resolveRef } from './lookup';

/** Only what the control API reads of a network object. */
interface NetworkObject extends StoredObject {
  Spec?: { Name?: string; Ingress?: boolean };
  Name?: string;
  Ingress?: boolean;
}

const networkName = (n: NetworkObject) => n.Spec?.Name ?? n.Name;

/** Rewrites each TaskTemplate.Networks[].Target to the network's ID; 404 for a network that does not exist. */
export async function resolveNetworks(store: ClusterStore, spec: ServiceSpec): Promise<void> {
  for (const att of spec.TaskTemplate?.Networks ?? []) {
    const target = att.Target ?? '';
    const net = await resolveRef<NetworkObject>(store, 'networks', target, 'network', () => (n) => [networkName(n)]);
    if (net.Spec?.Ingress ?? net.Ingress) throw invalid(`Service cannot be explicitly attached to the ingress network "${networkName(net) ?? net.ID}"`);
    att.Target = net.ID;
  }
  const targets = spec.TaskTemplate?.Networks?.map((n) => n.Target) ?? [];
  const dup = targets.find((t, i) => targets.indexOf(t) !== i);
  if (dup) throw invalid(`invalid spec: TaskTemplate.Networks: network ${dup} is attached more than once`);
}

/** Secret and config references name objects that exist, under those names (swarmkit's check). */
export async function checkSecretsAndConfigs(store: ClusterStore, spec: ServiceSpec): Promise<void> {
  const container = spec.TaskTemplate?.ContainerSpec;
  await checkRefs(store, 'secret', (container?.Secrets ?? []).map((r) => ({ id: r.SecretID, name: r.SecretName })));
  await checkRefs(store, 'config', (container?.Configs ?? []).map((r) => ({ id: r.ConfigID, name: r.ConfigName })));
}

async function checkRefs(store: ClusterStore, noun: 'secret' | 'config', refs: Array<{ id?: string; name?: string }>): Promise<void> {
  const missing: string[] = [];
  for (const ref of refs) {
    if (!ref.id || !ref.name) throw invalid(`malformed ${noun} reference: ${noun === 'secret' ? 'SecretID and SecretName' : 'ConfigID and ConfigName'} are both required`);
    const obj = await getById<StoredObject & { Spec?: { Name?: string } }>(store, noun === 'secret' ? 'secrets' : 'configs', ref.id);
    if (!obj || obj.Spec?.Name !== ref.name) missing.push(ref.name);
  }
  if (missing.length) throw invalid(`${noun}${missing.length > 1 ? 's' : ''} not found: ${missing.join(', ')}`);
}

const portKey = (p: EndpointPortConfig) => `${p.PublishedPort}/${p.Protocol ?? 'tcp'}`;

/**
 * swarmkit's check: a port published in ingress mode cannot also be published by another
 * service, in either mode; host-mode ports may repeat (the scheduler keeps them apart).
 * `selfId` is the service being updated, which may keep its own ports.
 */
export function checkPortConflicts(spec: ServiceSpec, services: readonly Service[], selfId?: string): void {
  const ingress = new Set<string>();
  const host = new Set<string>();
  for (const p of spec.EndpointSpec?.Ports ?? []) {
    if (!p.PublishedPort) continue;
    (p.PublishMode === 'host' ? host : ingress).add(portKey(p));
  }
  if (ingress.size === 0 && host.size === 0) return;
  for (const s of services) {
    if (s.ID === selfId) continue;
    for (const p of [...(s.Spec.EndpointSpec?.Ports ?? []), ...(s.Endpoint?.Ports ?? [])]) {
      if (!p.PublishedPort) continue;
      const key = portKey(p);
      if (p.PublishMode === 'host' && ingress.has(key)) {
        throw invalid(`port '${p.PublishedPort}' is already in use by service '${s.Spec.Name}' (${s.ID}) as a host-published port`);
      }
      if (p.PublishMode !== 'host' && (ingress.has(key) || host.has(key))) {
        throw invalid(`port '${p.PublishedPort}' is already in use by service '${s.Spec.Name}' (${s.ID}) as an ingress port`);
      }
    }
  }
}
