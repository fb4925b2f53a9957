import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { readSmallFile } from '../../../shared/sys/files';

describe('shared/sys: small files read in one call', () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'shoal-files-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('returns the text, undefined for a missing file, and throws anything else', async () => {
    await fs.writeFile(join(dir, 'pid'), '4242\n');
    assert.equal(readSmallFile(join(dir, 'pid')), '4242\n');
    assert.equal(readSmallFile(join(dir, 'missing')), undefined);
    assert.throws(() => readSmallFile(dir), (e: unknown) => (e as NodeJS.ErrnoException).code === 'EISDIR');
    assert.match(readSmallFile('/proc/self/cgroup') ?? '', /^\d+:/, 'procfs files, whose size stat reports as 0, are read whole');
  });
});
