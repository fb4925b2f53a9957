// POST /networks/create for a swarm-scoped network: Docker's request body, checked field by
// field (unknown fields refused), compiled to a swarm NetworkSpec. Pure.
import { ShoalError, invalid } from '../../shared/errors';
import { VXLAN_OPTION, type IPAMConfig, type NetworkSpec } from '../../shared/swarm';
import { SpecChecker, type Check } from '../spec';
import type { NetworkCreateRequest } from '../../shared/net/request';

const c = new SpecChecker('invalid network config');

/** Docker's network name rule. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const PREDEFINED = ['bridge', 'host', 'none'];


type CreateBody = NetworkCreateRequest;

const ipamConfig: Check = (v, p) => c.object(v, p, { Subnet: c.string, IPRange: c.string, Gateway: c.string, AuxiliaryAddresses: c.stringMap });

const body: Check<CreateBody> = (v, p) =>
  c.object<CreateBody>(v, p, {
    Name: c.string,
    CheckDuplicate: c.bool,
    Driver: c.string,
    Scope: c.string,
    Internal: c.bool,
    Attachable: c.bool,
    Ingress: c.bool,
    ConfigOnly: c.bool,
    ConfigFrom: (x, q) => c.object(x, q, { Network: c.string }),
    EnableIPv4: c.bool,
    EnableIPv6: c.bool,
    IPAM: (x, q) => c.object(x, q, { Driver: c.string, Config: c.arrayOf(ipamConfig), Options: c.stringMap }),
    Options: c.stringMap,
    Labels: c.stringMap,
  });

/** Whether a create request asks for a swarm-scoped network (the overlay driver, or scope swarm). */
export function wantsSwarmNetwork(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null) return false;
  const r = raw as { Driver?: unknown; Scope?: unknown };
  return r.Driver === 'overlay' || r.Scope === 'swarm';
}

/** The swarm NetworkSpec for a create request; throws INVALID_ARGUMENT (or 403 for reserved names) naming the problem. */
export function compileNetworkCreate(raw: unknown): NetworkSpec {
  const b = body(raw, '');
  const name = (b.Name ?? '').trim();
  if (!name) throw invalid('network name is required');
  if (!NAME.test(name)) throw invalid(`invalid network name '${name}': only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if (PREDEFINED.includes(name)) throw new ShoalError('PERMISSION_DENIED', `${name} is a pre-defined network and cannot be created`);
  const driver = b.Driver || 'overlay';
  if (driver !== 'overlay') throw invalid(`network driver '${driver}' cannot be used in swarm scope: swarm networks use the overlay driver`);
  if (b.Scope && b.Scope !== 'swarm') throw invalid(`an overlay network has swarm scope, not '${b.Scope}'`);
  if (b.ConfigOnly || b.ConfigFrom?.Network) throw invalid('config-only networks are not supported');
  if (b.EnableIPv6) throw invalid('IPv6 overlay networks are not supported');
  if (b.EnableIPv4 === false) throw invalid('an overlay network needs IPv4');
  if (b.Ingress && b.Internal) throw invalid('an ingress network cannot be internal');
  if (b.Ingress && b.Attachable) throw invalid('an ingress network cannot be attachable');
  if (b.IPAM?.Driver && b.IPAM.Driver !== 'default') throw invalid(`IPAM driver '${b.IPAM.Driver}' is not supported`);
  const configs = b.IPAM?.Config ?? [];
  if (configs.some((x) => (x.Subnet ?? '').includes(':'))) throw invalid('IPv6 subnets are not supported');
  if (configs.length > 1) throw invalid('only one IPv4 subnet per overlay network is supported');
  if (configs[0]?.AuxiliaryAddresses && Object.keys(configs[0].AuxiliaryAddresses).length) throw invalid('auxiliary addresses are not supported on overlay networks');
  const options = b.Options ?? {};
  const unknownOption = Object.keys(options).find((k) => k !== VXLAN_OPTION && k !== 'encrypted');
  if (unknownOption) throw invalid(`overlay driver option '${unknownOption}' is not supported`);
  if ('encrypted' in options) throw invalid('encrypted overlay networks need IPsec ESP, which this kernel does not have');
  if (options[VXLAN_OPTION] !== undefined) throw invalid(`${VXLAN_OPTION} is chosen by the cluster and cannot be set`);
  const ipam: IPAMConfig[] = configs.map((x) => ({ ...(x.Subnet ? { Subnet: x.Subnet } : {}), ...(x.Gateway ? { Gateway: x.Gateway } : {}), ...(x.IPRange ? { Range: x.IPRange } : {}) }));
  return {
    Name: name,
    Labels: b.Labels ?? {},
    DriverConfiguration: { Name: 'overlay' },
    ...(b.Internal ? { Internal: true } : {}),
    ...(b.Attachable ? { Attachable: true } : {}),
    ...(b.Ingress ? { Ingress: true } : {}),
    IPAMOptions: { Driver: { Name: 'default' }, ...(ipam.length ? { Configs: ipam } : {}) },
    Scope: 'swarm',
  };
}
