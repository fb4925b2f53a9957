import { invalid } from '../errors';

export const API_VERSION = '1.50';
export const MIN_API_VERSION = '1.24';

export function compareVersions(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}

/** Strip a `/v1.NN` prefix as dockerd does, rejecting versions it would reject. */
export function splitVersion(path: string): { version: string; path: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
  if (!m) return { version: API_VERSION, path };
  const version = m[1];
  if (compareVersions(version, API_VERSION) > 0) {
    throw invalid(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  }
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    throw invalid(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  return { version, path: m[2] };
}
