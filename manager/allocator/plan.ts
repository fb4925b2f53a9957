// What the allocator gives a service and its tasks, pure: the networks a service's VIPs and a
// task's addresses belong on, and the endpoint and attachments that record them.
import { isTerminal, type EndpointPortConfig, type Network, type NetworkAttachment, type Service, type ServiceEndpoint, type Task } from '../../shared/swarm';

/** Whether the service publishes a port through the routing mesh (ingress mode, the default; a port to be chosen counts). */
export function publishesIngress(service: Service): boolean {
  return (service.Spec.EndpointSpec?.Ports ?? []).some((p) => (p.PublishMode ?? 'ingress') === 'ingress' && !!(p.PublishedPort || p.TargetPort));
}

/** Docker's range for ingress ports published without a number (`-p 80`). */
export const DYNAMIC_PORTS: readonly [number, number] = [30000, 32767];

const portKey = (proto: string | undefined, port: number) => `${proto ?? 'tcp'}/${port}`;

/** The published ports other services hold ("tcp/8080"), which a chosen port must avoid. */
export function portsTaken(services: Iterable<Service>, except: string): Set<string> {
  const out = new Set<string>();
  for (const s of services) {
    if (s.ID === except) continue;
    for (const p of [...(s.Spec.EndpointSpec?.Ports ?? []), ...(s.Endpoint?.Ports ?? [])]) if (p.PublishedPort) out.add(portKey(p.Protocol, p.PublishedPort));
  }
  return out;
}

/** The networks a service's tasks join: its own, then the ingress network when it publishes through the mesh. */
export function serviceNetworks(service: Service, ingressId: string | undefined): string[] {
  const own = (service.Spec.TaskTemplate?.Networks ?? []).map((n) => n.Target).filter((t): t is string => !!t);
  return ingressId && publishesIngress(service) && !own.includes(ingressId) ? [...own, ingressId] : own;
}

/** The networks a task joins: what its own spec names, then ingress as for its service. */
export function taskNetworks(task: Task, service: Service, ingressId: string | undefined): string[] {
  const own = specNetworks(task);
  return ingressId && publishesIngress(service) && !own.includes(ingressId) ? [...own, ingressId] : own;
}

/** The networks a task's own spec names: all a container's network attachment task joins. */
export function specNetworks(task: Task): string[] {
  return (task.Spec.Networks ?? []).map((n) => n.Target).filter((t): t is string => !!t);
}

/** VIP mode (the default) gives the service one address per network; dnsrr none. */
export function vipNetworks(service: Service, ingressId: string | undefined): string[] {
  return (service.Spec.EndpointSpec?.Mode ?? 'vip') === 'vip' ? serviceNetworks(service, ingressId) : [];
}

/**
 * The endpoint a service should carry: its endpoint spec, its ports, a VIP per network (`vips`:
 * network ID -> address). An ingress port published without a number gets one from
 * DYNAMIC_PORTS that `taken` (other services' ports) does not hold, keeping the one it had.
 */
export function endpointFor(service: Service, vips: ReadonlyMap<string, string>, taken: ReadonlySet<string> = new Set()): ServiceEndpoint {
  const spec = service.Spec.EndpointSpec;
  const used = new Set(taken);
  for (const p of spec?.Ports ?? []) if (p.PublishedPort) used.add(portKey(p.Protocol, p.PublishedPort));
  const had = (service.Endpoint?.Ports ?? []).filter((c) => c.PublishedPort && !(spec?.Ports ?? []).some((p) => p.PublishedPort === c.PublishedPort && (p.Protocol ?? 'tcp') === (c.Protocol ?? 'tcp')));
  const ports: EndpointPortConfig[] = (spec?.Ports ?? []).map((p) => {
    const port: EndpointPortConfig = { Protocol: 'tcp', PublishMode: 'ingress', ...p };
    if (port.PublishMode !== 'ingress' || port.PublishedPort || !port.TargetPort) return port;
    const prev = had.find((c) => c.TargetPort === port.TargetPort && (c.Protocol ?? 'tcp') === port.Protocol && !used.has(portKey(c.Protocol, c.PublishedPort!)));
    let n = prev?.PublishedPort;
    for (let cand = DYNAMIC_PORTS[0]; !n && cand <= DYNAMIC_PORTS[1]; cand++) if (!used.has(portKey(port.Protocol, cand))) n = cand;
    if (n) {
      used.add(portKey(port.Protocol, n));
      port.PublishedPort = n;
    }
    return port;
  });
  return {
    ...(spec ? { Spec: spec } : {}),
    ...(ports.length ? { Ports: ports } : {}),
    ...(vips.size ? { VirtualIPs: [...vips].map(([NetworkID, Addr]) => ({ NetworkID, Addr })) } : {}),
  };
}

/** The VIPs a service holds now: network ID -> address. */
export function currentVips(service: Service): Map<string, string> {
  return new Map((service.Endpoint?.VirtualIPs ?? []).filter((v) => v.NetworkID && v.Addr).map((v) => [v.NetworkID!, v.Addr!]));
}

/** Whether the service's endpoint already says what `endpointFor` would. */
export function endpointCurrent(service: Service, wanted: readonly string[], taken: ReadonlySet<string> = new Set()): boolean {
  const have = currentVips(service);
  if (have.size !== wanted.length || !wanted.every((n) => have.has(n))) return false;
  return JSON.stringify(service.Endpoint ?? {}) === JSON.stringify(endpointFor(service, have, taken));
}

/** A task's attachment to a network: the network as it is, and the task's address on it. */
export function attachment(network: Network, address: string): NetworkAttachment {
  const { Version: _v, ...rest } = network;
  return { Network: rest as unknown as NetworkAttachment['Network'], Addresses: [address] };
}

/** A task that holds addresses it no longer needs: it has ended. */
export function holdsDeadAddresses(t: Task): boolean {
  return isTerminal(t.Status.State) && !!t.NetworksAttachments?.length;
}
