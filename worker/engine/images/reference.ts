// Image references ("busybox", "localhost:5000/a/b:tag", "repo@sha256:...") parsed and
// normalised the way the Docker CLI and daemon do, so names, tags and digests agree with
// what users type. Pure: no I/O. The registry client uses it too.
import { invalid } from '../../../shared/errors';

export interface ImageRef {
  /** Registry host, with port: "docker.io", "localhost:5000". Empty only from parseReference on a domain-less name. */
  domain: string;
  /** Repository path inside the registry: "library/busybox", "a/b". */
  path: string;
  tag?: string;
  /** "sha256:<64 hex>" (or another algorithm:hex). */
  digest?: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const NAME_TOTAL_MAX = 255;

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const DIGEST_RE = new RegExp(`^${DIGEST}$`);
const HEX64_RE = /^[a-f0-9]{64}$/;
const ANY_HEX_RE = /^[a-f0-9]+$/;

export const INVALID_FORMAT = 'invalid reference format';

/** Split "name[:tag][@digest]" into its parts and validate them; no normalisation. */
export function parseReference(s: string): ImageRef {
  if (s === '') throw invalid(`${INVALID_FORMAT}: repository name must have at least one component`);
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw invalid(INVALID_FORMAT);
    validateDigest(digest);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw invalid(INVALID_FORMAT);
  }
  if (rest === '') throw invalid(INVALID_FORMAT);
  let domain = '';
  let path = rest;
  const first = rest.indexOf('/');
  if (first >= 0) {
    const head = rest.slice(0, first);
    if (looksLikeDomain(head)) {
      domain = head;
      path = rest.slice(first + 1);
      if (!DOMAIN_RE.test(domain)) throw invalid(INVALID_FORMAT);
    }
  }
  if (!PATH_RE.test(path)) {
    if (PATH_RE.test(path.toLowerCase())) throw invalid(`${INVALID_FORMAT}: repository name (${path}) must be lowercase`);
    throw invalid(INVALID_FORMAT);
  }
  const fullLen = (domain ? domain.length + 1 : 0) + path.length;
  if (fullLen > NAME_TOTAL_MAX) throw invalid(`${INVALID_FORMAT}: repository name must not be more than ${NAME_TOTAL_MAX} characters`);
  return { domain, path, tag, digest };
}

/** A first path component is a registry host when it has a '.' or ':' or is "localhost" (as docker decides). */
export function looksLikeDomain(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

/**
 * Parse and normalise a user-typed reference: "busybox" -> docker.io/library/busybox,
 * "index.docker.io/x/y" -> docker.io/x/y. Keeps tag/digest as given (no default tag).
 */
export function parseNormalized(s: string): ImageRef {
  if (HEX64_RE.test(s)) throw invalid(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  const r = parseReference(s);
  let domain = r.domain || DEFAULT_DOMAIN;
  let path = r.path;
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_PREFIX + path;
  if (path.length + domain.length + 1 > NAME_TOTAL_MAX) throw invalid(`${INVALID_FORMAT}: repository name must not be more than ${NAME_TOTAL_MAX} characters`);
  return { domain, path, tag: r.tag, digest: r.digest };
}

/** Normalise and add "latest" when neither a tag nor a digest is given. */
export function parseNormalizedTagged(s: string): ImageRef {
  const r = parseNormalized(s);
  if (r.tag === undefined && r.digest === undefined) r.tag = DEFAULT_TAG;
  return r;
}

/** Validate a repository + tag pair as given to `docker tag` / import (repo may carry its own tag). */
export function parseRepoTag(repo: string, tag?: string): ImageRef {
  const r = parseNormalized(repo);
  if (tag) {
    if (r.digest) throw invalid('cannot tag a digest reference');
    if (!TAG_RE.test(tag)) throw invalid(`invalid tag format: ${tag}`);
    if (r.tag !== undefined) throw invalid(`${INVALID_FORMAT}: tag given both in repository (${repo}) and tag (${tag})`);
    r.tag = tag;
  }
  if (r.digest) throw invalid(`refusing to create a tag with a digest reference: ${repo}`);
  r.tag ??= DEFAULT_TAG;
  return r;
}

/** "docker.io/library/busybox" */
export function fullName(r: ImageRef): string {
  return r.domain ? `${r.domain}/${r.path}` : r.path;
}

/** "docker.io/library/busybox:latest@sha256:..." */
export function fullString(r: ImageRef): string {
  return fullName(r) + (r.tag !== undefined ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '');
}

/** The short name docker prints: "busybox", "foo/bar", "localhost:5000/a". */
export function familiarName(r: ImageRef): string {
  if (r.domain !== DEFAULT_DOMAIN) return fullName(r);
  const p = r.path;
  if (p.startsWith(OFFICIAL_PREFIX) && !p.slice(OFFICIAL_PREFIX.length).includes('/')) return p.slice(OFFICIAL_PREFIX.length);
  return p;
}

/** "busybox:latest", "localhost:5000/a@sha256:..." */
export function familiarString(r: ImageRef): string {
  return familiarName(r) + (r.tag !== undefined ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '');
}

/** Turn a stored full reference string back into a familiar one ("docker.io/library/a:b" -> "a:b"). */
export function familiarize(full: string): string {
  return familiarString(parseNormalized(full));
}

/** Validate "algo:hex"; sha256 must have 64 lower-case hex digits. */
export function validateDigest(d: string): void {
  const i = d.indexOf(':');
  if (i <= 0) throw invalid(`invalid digest '${d}': expected algorithm:hex`);
  const algo = d.slice(0, i);
  const hex = d.slice(i + 1);
  if (algo === 'sha256' && !HEX64_RE.test(hex)) throw invalid(`invalid digest '${d}': sha256 needs 64 lower-case hex digits`);
  if (algo === 'sha512' && !/^[a-f0-9]{128}$/.test(hex)) throw invalid(`invalid digest '${d}': sha512 needs 128 lower-case hex digits`);
  if (!ANY_HEX_RE.test(hex)) throw invalid(`invalid digest '${d}'`);
}

/** Is the string a full image ID, with or without "sha256:"? */
export function isFullId(s: string): boolean {
  return HEX64_RE.test(s.replace(/^sha256:/, ''));
}

/** Could the string be an ID prefix ("3f4", "sha256:3f4a")? */
export function isIdPrefix(s: string, minLen = 3): boolean {
  const h = s.replace(/^sha256:/, '');
  return h.length >= minLen && h.length <= 64 && ANY_HEX_RE.test(h);
}
