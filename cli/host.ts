export const DEFAULT_HOST = 'unix:///run/shoal/shoal.sock';

export class HostError extends Error {}

/** The daemon address: -H/--host, else SHOAL_HOST, else DOCKER_HOST, else the default socket. */
export function resolveHost(flag: string | undefined, env: Record<string, string | undefined>): string {
  const raw = [flag, env.SHOAL_HOST, env.DOCKER_HOST].find((v) => v !== undefined && v.trim() !== '') ?? DEFAULT_HOST;
  return normalizeHost(raw.trim());
}

/** unix:///path, /path, tcp://host[:port] (port 2375 by default), http://host:port. */
export function normalizeHost(h: string): string {
  if (h.startsWith('unix://')) {
    if (h.length <= 'unix://'.length) throw new HostError(`unable to parse shoal host '${h}'`);
    return h;
  }
  if (h.startsWith('/')) return `unix://${h}`;
  const m = /^(tcp|http):\/\/([^:/]+|\[[^\]]+\])(?::(\d+))?\/?$/.exec(h);
  if (m) {
    const port = m[3] ?? '2375';
    if (Number(port) > 65535) throw new HostError(`unable to parse shoal host '${h}': invalid port`);
    return `tcp://${m[2]}:${port}`;
  }
  throw new HostError(`unable to parse shoal host '${h}': expected unix:///path or tcp://host:port`);
}
