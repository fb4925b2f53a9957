import { invalid } from '../../../shared/errors';
import { randomName } from '../../../shared/ids';

const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Validate a user-given container name; returns it with the leading slash, as inspect shows it. */
export function normalizeName(name: string): string {
  if (!NAME_RE.test(name)) throw invalid(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.startsWith('/') ? name : `/${name}`;
}

/** A random docker-style name not in `taken`; after a few clashes, a numeric suffix as dockerd adds. */
export function generateName(taken: (name: string) => boolean, random: () => string = randomName): string {
  for (let i = 0; i < 10; i++) {
    const n = `/${random()}`;
    if (!taken(n)) return n;
  }
  for (let i = 0; ; i++) {
    const n = `/${random()}${Math.floor(Math.random() * 10) + i}`;
    if (!taken(n)) return n;
  }
}
