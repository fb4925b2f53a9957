// The stack file corpus: one directory per case under test/unit/compose/corpus, read from
// the source tree (tests run from dist/). A case has stack.yml (or the files case.json
// lists), and expected.json (the StackPlan) or expected.errors (one error per line).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '../../../..');
export const corpusDir = join(repoRoot, 'test/unit/compose/corpus');

export interface CorpusCase {
  name: string;
  dir: string;
  files: string[];
  env: Record<string, string>;
  stack: string;
  /** What the reference JSON schema must say of every file: valid, invalid, or not checked (why). */
  schema: 'valid' | 'invalid' | { skip: string };
  expectedPlan?: unknown;
  expectedErrors?: string[];
}

export function corpusCases(): CorpusCase[] {
  return readdirSync(corpusDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const dir = join(corpusDir, name);
      const meta = existsSync(join(dir, 'case.json')) ? JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) : {};
      const planPath = join(dir, 'expected.json');
      const errPath = join(dir, 'expected.errors');
      const c: CorpusCase = {
        name,
        dir,
        files: meta.files ?? ['stack.yml'],
        env: meta.env ?? {},
        stack: meta.name ?? 'app',
        schema: meta.schema ?? (existsSync(errPath) ? { skip: 'an invalid case says nothing about the schema unless case.json does' } : 'valid'),
      };
      if (existsSync(planPath)) c.expectedPlan = JSON.parse(readFileSync(planPath, 'utf8'));
      if (existsSync(errPath)) c.expectedErrors = readFileSync(errPath, 'utf8').split('\n').filter((l) => l.trim() !== '');
      return c;
    });
}

/** Replace the case's absolute directory with "<dir>" so expectations do not depend on the checkout. */
export function portable<T>(value: T, dir: string): T {
  return JSON.parse(JSON.stringify(value).split(dir).join('<dir>'));
}
