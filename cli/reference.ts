// Image references as the docker CLI normalises them: "busybox" is docker.io/library/busybox:latest,
// a first component with a dot, a colon or "localhost" is a registry.

export class ReferenceError extends Error {}

export interface ImageRef {
  /** Registry host, "docker.io" by default. */
  domain: string;
  /** Path within the registry, with "library/" added for official docker.io images. */
  path: string;
  tag?: string;
  digest?: string;
}

const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;

export function parseRef(input: string): ImageRef {
  if (!input) throw new ReferenceError('invalid reference format');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ReferenceError('invalid reference format');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ReferenceError('invalid reference format');
  }
  const slash = rest.indexOf('/');
  let domain = 'docker.io';
  let path = rest;
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (!DOMAIN.test(domain)) throw new ReferenceError('invalid reference format');
  if (path.toLowerCase() !== path) throw new ReferenceError(`invalid reference format: repository name (${domain === 'docker.io' && !path.includes('/') ? 'library/' : ''}${path}) must be lowercase`);
  if (!path.split('/').every((c) => COMPONENT.test(c))) throw new ReferenceError('invalid reference format');
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (`${domain}/${path}`.length > 255) throw new ReferenceError('invalid reference format: repository name must not be more than 255 characters');
  return { domain, path, tag, digest };
}

/** The full repository name: docker.io/library/busybox. */
export function refName(r: ImageRef): string {
  return `${r.domain}/${r.path}`;
}

/** The short repository name docker shows: busybox, foo/bar, localhost:5000/x. */
export function familiarName(r: ImageRef): string {
  if (r.domain !== 'docker.io') return `${r.domain}/${r.path}`;
  return r.path.startsWith('library/') && r.path.split('/').length === 2 ? r.path.slice('library/'.length) : r.path;
}

export function familiarString(r: ImageRef): string {
  return `${familiarName(r)}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** Add ":latest" when a reference has neither tag nor digest. */
export function withDefaultTag(r: ImageRef): ImageRef {
  return r.tag || r.digest ? r : { ...r, tag: 'latest' };
}
