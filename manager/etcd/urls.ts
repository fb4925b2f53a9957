// URL checks shared by the etcd and NATS configs: one clear message per bad value.
import { isIP } from 'node:net';
import { invalid } from '../../shared/errors';

export interface HostPort {
  host: string;
  port: number;
}

export function checkPort(field: string, port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(`${field}: port ${JSON.stringify(port)} must be a whole number from 1 to 65535`);
  }
  return port;
}

/** Parse `scheme://HOST:PORT` with an explicit port and nothing after it. */
export function parseUrl(field: string, value: unknown, schemes: string[]): { url: URL; host: string; port: number } {
  if (typeof value !== 'string' || value === '') throw invalid(`${field} must be a URL like ${schemes[0]}://HOST:PORT`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`${field}: "${value}" is not a URL (want ${schemes[0]}://HOST:PORT)`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (!schemes.includes(scheme)) throw invalid(`${field}: "${value}" must use ${schemes.join(' or ')}://`);
  if (url.hostname === '') throw invalid(`${field}: "${value}" has no host`);
  if (url.port === '') throw invalid(`${field}: "${value}" needs an explicit port`);
  if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.hash) throw invalid(`${field}: "${value}" must not have a path, query or fragment`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { url, host, port: checkPort(field, Number(url.port)) };
}

/** A URL a server binds to: its host must be an IP address (etcd refuses names there). */
export function parseListenUrl(field: string, value: unknown, schemes: string[]): { host: string; port: number } {
  const { host, port } = parseUrl(field, value, schemes);
  if (isIP(host) === 0) throw invalid(`${field}: "${value as string}" must name an IP address to listen on, not a host name`);
  return { host, port };
}

/** `HOST:PORT` (IPv6 in brackets) to listen on. */
export function parseHostPort(field: string, value: unknown): HostPort {
  if (typeof value !== 'string') throw invalid(`${field} must be HOST:PORT`);
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d+)$/.exec(value);
  if (!m) throw invalid(`${field}: "${value}" must be HOST:PORT`);
  const host = m[1] ?? m[2];
  if (isIP(host) === 0) throw invalid(`${field}: "${value}" must name an IP address to listen on`);
  return { host, port: checkPort(field, Number(m[3])) };
}

/** host:port as it goes into a URL (IPv6 bracketed). */
export function joinHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
