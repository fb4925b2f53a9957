import { promises as fs } from 'node:fs';
import { join } from 'node:path';

/** docker diff kinds. */
export const enum ChangeKind {
  Modified = 0,
  Added = 1,
  Deleted = 2,
}

export interface Change {
  Path: string;
  Kind: ChangeKind;
}

async function inLowers(lowers: string[], rel: string): Promise<boolean> {
  for (const l of lowers) {
    if (await fs.lstat(join(l, rel)).then(() => true, () => false)) return true;
  }
  return false;
}

/**
 * What the container changed, from its overlay upper dir: whiteouts (0/0 character devices)
 * are deletions; entries the lower layers also have are modifications, others additions.
 */
export async function containerChanges(upper: string, lowers: string[]): Promise<Change[]> {
  const out: Change[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(join(upper, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const r = `${rel}/${e.name}`;
      const st = await fs.lstat(join(upper, r));
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ Path: r, Kind: ChangeKind.Deleted });
        continue;
      }
      out.push({ Path: r, Kind: (await inLowers(lowers, r)) ? ChangeKind.Modified : ChangeKind.Added });
      if (e.isDirectory()) await walk(r);
    }
  };
  await walk('');
  return out;
}
