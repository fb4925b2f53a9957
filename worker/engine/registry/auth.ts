// Credentials and authentication challenges: the X-Registry-Auth header the docker CLI
// sends, and the WWW-Authenticate challenges a registry answers 401 with.
import { invalid } from '../../../shared/errors';

/** Credentials for one registry, as the docker CLI encodes them in X-Registry-Auth. */
export interface AuthConfig {
  username?: string;
  password?: string;
  /** base64("user:password"), as in ~/.docker/config.json; used when username is absent. */
  auth?: string;
  email?: string;
  serveraddress?: string;
  /** An OAuth2 refresh token from a previous login, exchanged at the token realm. */
  identitytoken?: string;
  /** A bearer token used as is for every request. */
  registrytoken?: string;
}

/**
 * Decode an X-Registry-Auth header: base64url (or standard base64, padded or not) of a JSON
 * object. An absent, empty or "{}" header means anonymous. Anything else that does not decode
 * is a client error, not something to silently ignore.
 */
export function decodeRegistryAuth(header: string | undefined): AuthConfig | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (text === '' || text === '{}') return undefined;
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw invalid('invalid X-Registry-Auth header: not base64');
  const json = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
  let obj: unknown;
  try {
    obj = JSON.parse(json);
  } catch {
    throw invalid('invalid X-Registry-Auth header: not JSON');
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw invalid('invalid X-Registry-Auth header: expected a JSON object');
  const src = obj as Record<string, unknown>;
  const out: AuthConfig = {};
  for (const k of ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'] as const) {
    const v = src[k];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') throw invalid(`invalid X-Registry-Auth header: ${k} must be a string`);
    out[k] = v;
  }
  if (!out.username && out.auth) {
    const plain = Buffer.from(out.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i < 0) throw invalid('invalid X-Registry-Auth header: auth is not base64("user:password")');
    out.username = plain.slice(0, i);
    out.password = plain.slice(i + 1);
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** Encode credentials the way the docker CLI does (base64url of the JSON). */
export function encodeRegistryAuth(auth: AuthConfig): string {
  return Buffer.from(JSON.stringify(auth)).toString('base64url');
}

export interface Challenge {
  scheme: string; // lower-case: "basic", "bearer"
  params: Record<string, string>; // keys lower-case
}

/**
 * Parse WWW-Authenticate values (RFC 7235): one or more challenges, each a scheme then
 * comma-separated `key=value` or `key="quoted value"` parameters.
 */
export function parseWwwAuthenticate(headers: string | string[] | null | undefined): Challenge[] {
  const values = headers === null || headers === undefined ? [] : Array.isArray(headers) ? headers : [headers];
  const out: Challenge[] = [];
  for (const value of values) {
    let i = 0;
    const s = value;
    const skipWs = () => {
      while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    };
    const token = () => {
      const m = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/.exec(s.slice(i));
      if (!m) return '';
      i += m[0].length;
      return m[0];
    };
    let current: Challenge | undefined;
    while (i < s.length) {
      skipWs();
      if (s[i] === ',') {
        i++;
        continue;
      }
      const start = i;
      const name = token();
      if (!name) {
        i++; // stray character: skip it rather than loop forever
        continue;
      }
      skipWs();
      if (s[i] === '=' && current) {
        i++;
        skipWs();
        let val = '';
        if (s[i] === '"') {
          i++;
          while (i < s.length && s[i] !== '"') {
            if (s[i] === '\\' && i + 1 < s.length) i++;
            val += s[i++];
          }
          i++; // closing quote
        } else {
          const m = /^[^,\s]*/.exec(s.slice(i))!;
          val = m[0];
          i += val.length;
        }
        current.params[name.toLowerCase()] = val;
      } else if (s[i] === '=' && !current) {
        // A parameter with no scheme before it: malformed; skip to the next comma.
        i = s.indexOf(',', start) < 0 ? s.length : s.indexOf(',', start) + 1;
      } else {
        current = { scheme: name.toLowerCase(), params: {} };
        out.push(current);
        // token68 form (e.g. "Negotiate abc==") is not used by registries; params follow.
      }
    }
  }
  return out;
}

/** Basic credentials as an Authorization header value, or undefined when there are none. */
export function basicHeader(auth: AuthConfig | undefined): string | undefined {
  if (!auth?.username) return undefined;
  return 'Basic ' + Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64');
}

/** The token-server scope for a repository and actions ("repository:test/x:pull,push"). */
export function repositoryScope(repo: string, actions: string[]): string {
  return `repository:${repo}:${actions.join(',')}`;
}
