import { promises as fs } from 'node:fs';
import { readJson, writeJsonAtomic } from '../../../shared/fsutil';
import type { ContainerPaths } from './paths';
import type { ContainerRecord } from './types';

/** Container records on disk: one JSON file per container, replaced atomically. */
export class RecordStore {
  constructor(private readonly paths: ContainerPaths) {}

  async save(r: ContainerRecord): Promise<void> {
    await writeJsonAtomic(this.paths.record(r.Id), r);
  }

  async load(id: string): Promise<ContainerRecord | undefined> {
    return readJson<ContainerRecord>(this.paths.record(id)).catch(() => undefined);
  }

  /** Remove the record first on rm: a crash after that leaves only a directory the sweep removes. */
  async delete(id: string): Promise<void> {
    await fs.rm(this.paths.record(id), { force: true });
  }

  /** Every container directory, split into those with a readable record and leftovers. */
  async scan(): Promise<{ records: ContainerRecord[]; orphans: string[] }> {
    const entries = await fs.readdir(this.paths.root, { withFileTypes: true }).catch(() => []);
    const records: ContainerRecord[] = [];
    const orphans: string[] = [];
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const r = await this.load(e.name);
      if (r && r.Id === e.name) records.push(r);
      else orphans.push(e.name);
    }
    return { records, orphans };
  }
}
