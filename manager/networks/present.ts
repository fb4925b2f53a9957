// A swarm network as GET /networks and GET /networks/{id} show it (Docker's Network shape,
// Scope "swarm"). Pure.
import type { Network } from '../../shared/swarm';
import type { NetworkFacts } from '../../shared/net/filters';

export function networkFacts(n: Network): NetworkFacts {
  return { name: n.Spec.Name, id: n.ID, labels: n.Spec.Labels ?? {}, driver: n.Spec.DriverConfiguration?.Name ?? 'overlay', predefined: false, scope: 'swarm' };
}

export function swarmNetworkJson(n: Network): Record<string, unknown> {
  const configs = (n.IPAMOptions?.Configs ?? []).map((c) => ({ Subnet: c.Subnet, Gateway: c.Gateway, ...(c.Range ? { IPRange: c.Range } : {}) }));
  return {
    Name: n.Spec.Name,
    Id: n.ID,
    Created: n.CreatedAt,
    Scope: 'swarm',
    Driver: n.Spec.DriverConfiguration?.Name ?? 'overlay',
    EnableIPv4: true,
    EnableIPv6: false,
    IPAM: { Driver: n.IPAMOptions?.Driver?.Name ?? 'default', Options: null, Config: configs },
    Internal: !!n.Spec.Internal,
    Attachable: !!n.Spec.Attachable,
    Ingress: !!n.Spec.Ingress,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: {},
    Options: { ...(n.DriverState?.Options ?? {}) },
    Labels: { ...(n.Spec.Labels ?? {}) },
  };
}
