// Where a registry domain is reached: which host, and over http or https.
import { isIP } from 'node:net';

/** The domain of names without one ("busybox" is docker.io/library/busybox). */
export const DEFAULT_DOMAIN = 'docker.io';
/** docker.io's API is served from another host. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

export interface RegistryEndpoint {
  /** The domain as written in image names ("127.0.0.1:5000", "docker.io"). */
  domain: string;
  /** scheme://host[:port] the /v2/ API lives under. */
  baseUrl: string;
  /** Plain http: loopback registries (as docker treats them) and configured insecure ones. */
  insecure: boolean;
}

export interface EndpointOptions {
  /** Extra domains (host or host:port) or CIDRs to reach over http. */
  insecureRegistries?: string[];
}

function hostOf(domain: string): string {
  if (domain.startsWith('[')) return domain.slice(1, domain.indexOf(']'));
  const i = domain.lastIndexOf(':');
  return i > 0 && domain.indexOf(':') === i ? domain.slice(0, i) : domain;
}

/** localhost, 127.0.0.0/8 and ::1: registries docker reaches over plain http by default. */
export function isLoopbackDomain(domain: string): boolean {
  const host = hostOf(domain).toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
}

function inCidr(host: string, cidr: string): boolean {
  const [net, bitsS] = cidr.split('/');
  const bits = Number(bitsS);
  if (isIP(host) !== 4 || isIP(net) !== 4 || !(bits >= 0 && bits <= 32)) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (ipv4ToInt(host) & mask) === (ipv4ToInt(net) & mask);
}

export function resolveEndpoint(domain: string, opts: EndpointOptions = {}): RegistryEndpoint {
  const d = domain === 'index.docker.io' || domain === 'registry-1.docker.io' ? DEFAULT_DOMAIN : domain;
  const insecure =
    isLoopbackDomain(d) ||
    (opts.insecureRegistries ?? []).some((e) => (e.includes('/') ? inCidr(hostOf(d), e) : e === d || e === hostOf(d)));
  const apiHost = d === DEFAULT_DOMAIN ? DOCKER_HUB_API_HOST : d;
  return { domain: d, baseUrl: `${insecure ? 'http' : 'https'}://${apiHost}`, insecure };
}
