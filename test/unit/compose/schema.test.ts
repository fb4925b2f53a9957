// Our validator against the reference: the official compose 3.13 JSON schema (docker/cli's),
// read at run time from ../shared/spec. Valid corpus files must pass it; invalid cases marked
// schema: "invalid" must fail it too.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv from 'ajv';
import { parseStackFiles, stackFileData } from '../../../shared/compose';
import { corpusCases, repoRoot } from './corpus';

const schemaPath = resolve(repoRoot, '../shared/spec/compose-stack-schema-v3.13.json');

// The schema names three formats docker's Go code checks; these are independent,
// deliberately simple readings of them (Go durations, port and expose specs).
const FORMATS = {
  duration: /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$|^0$/,
  ports: /^((\[[0-9a-fA-F:.]+\]|[0-9.]+):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$|^\d+$/,
  expose: /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
};

describe('compose: corpus against the reference JSON schema', function () {
  if (!existsSync(schemaPath)) {
    it.skip(`reference schema not found at ${schemaPath}`);
    return;
  }
  // A draft-04 schema: ajv 8 runs it as draft-07 once the $schema and draft-04 "id" keys
  // are left out (the schema has no draft-04-only keywords otherwise).
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8'), (k, v) => (k === '$schema' || (k === 'id' && typeof v === 'string') ? undefined : v));
  const ajv = new Ajv({ strict: false, allErrors: true });
  for (const [name, re] of Object.entries(FORMATS)) ajv.addFormat(name, { type: 'string', validate: (s: string) => re.test(s) });
  const validate = ajv.compile(schema);

  for (const c of corpusCases()) {
    const expect = c.schema;
    if (typeof expect === 'object') continue;
    it(`${c.name}: ${expect} for the reference schema`, async () => {
      const parsed = await parseStackFiles({ files: c.files, cwd: c.dir, env: c.env });
      assert.equal(parsed.files.length, c.files.length, `not YAML: ${parsed.issues.list.map((i) => i.message).join('; ')}`);
      const verdicts = parsed.files.map((f) => ({ file: f.path, ok: validate(stackFileData(f)) as boolean, errors: ajv.errorsText(validate.errors) }));
      if (expect === 'valid') for (const v of verdicts) assert.ok(v.ok, `${v.file}: ${v.errors}`);
      else assert.ok(verdicts.some((v) => !v.ok), 'the reference schema accepts every file');
    });
  }
});
