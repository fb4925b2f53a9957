import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { formatIssue, isStackError, loadStack } from '../../../shared/compose';
import { corpusCases, portable } from './corpus';

// UPDATE_CORPUS=1 rewrites the expected files from the current output, for review in git diff.
const update = process.env.UPDATE_CORPUS === '1';

describe('compose: stack file corpus', () => {
  const cases = corpusCases();

  it('has at least 25 cases, each with an expectation', () => {
    assert.ok(cases.length >= 25, `only ${cases.length} cases`);
    for (const c of cases) assert.ok(update || c.expectedPlan !== undefined || c.expectedErrors !== undefined, `${c.name} has no expected.json or expected.errors`);
  });

  for (const c of cases) {
    it(c.name, async () => {
      let plan: unknown;
      let errors: string[] | undefined;
      try {
        plan = await loadStack({ files: c.files, name: c.stack, cwd: c.dir, env: c.env });
      } catch (err) {
        if (!isStackError(err)) throw err;
        errors = err.issues.map((i) => formatIssue({ ...i, file: relative(c.dir, i.file) || i.file }));
      }
      if (update) {
        if (errors) writeFileSync(join(c.dir, 'expected.errors'), errors.join('\n') + '\n');
        else writeFileSync(join(c.dir, 'expected.json'), JSON.stringify(portable(plan, c.dir), null, 2) + '\n');
        return;
      }
      if (c.expectedErrors) {
        assert.ok(errors, `expected errors, got a plan`);
        assert.deepEqual(errors, c.expectedErrors);
      } else {
        assert.equal(errors, undefined, `unexpected errors:\n${errors?.join('\n')}`);
        assert.deepEqual(portable(plan, c.dir), c.expectedPlan);
      }
    });
  }
});
