import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  formatStackErrors,
  formatStackWarnings,
  isStackError,
  loadStack,
  parsePortSpec,
  parseVolumeSpec,
  substitute,
} from '../../../shared/compose';
import { isShoalError } from '../../../shared/errors';

describe('compose: substitute', () => {
  const env: Record<string, string> = { A: 'a', EMPTY: '' };
  const lookup = (n: string) => env[n];
  const cases: Array<[string, string]> = [
    ['$A', 'a'],
    ['${A}b', 'ab'],
    ['x$A-y', 'xa-y'],
    ['${MISSING:-d}', 'd'],
    ['${EMPTY:-d}', 'd'],
    ['${EMPTY-d}', ''],
    ['${MISSING-d e}', 'd e'],
    ['$$A', '$A'],
    ['$${A}', '${A}'],
    ['${A:?no}', 'a'],
    ['${MISSING}', ''],
  ];
  for (const [input, want] of cases) it(`${input} -> '${want}'`, () => assert.equal(substitute(input, lookup).value, want));

  it('lists variables that are not set', () => assert.deepEqual(substitute('$X ${Y} ${Z:-z}', lookup).unset, ['X', 'Y']));

  it('rejects required variables and bad templates with one-line messages', () => {
    assert.throws(() => substitute('${EMPTY:?say why}', lookup), /^Error: required variable EMPTY is missing a value: say why$/);
    assert.throws(() => substitute('${MISSING?}', lookup), /required variable MISSING is not set/);
    assert.throws(() => substitute('${A', lookup), /missing closing brace/);
    assert.throws(() => substitute('cost: $5', lookup), /lone '\$'/);
    assert.throws(() => substitute('${A B}', lookup), /not a variable name/);
  });
});

describe('compose: short port and volume syntax', () => {
  it('parses ports as docker does', () => {
    assert.deepEqual(parsePortSpec(80).ports, [{ Protocol: 'tcp', TargetPort: 80, PublishMode: 'ingress' }]);
    assert.deepEqual(parsePortSpec('53:53/udp').ports, [{ Protocol: 'udp', TargetPort: 53, PublishMode: 'ingress', PublishedPort: 53 }]);
    assert.equal(parsePortSpec('[::1]:80:8080').hostIp, '::1');
    assert.equal(parsePortSpec('3000-3002').ports.length, 3);
    assert.throws(() => parsePortSpec('0:80'), /outside 1-65535/);
    assert.throws(() => parsePortSpec('80-70'), /ends before it starts/);
  });

  it('parses volumes as docker does', () => {
    assert.deepEqual(parseVolumeSpec('/data'), { type: 'volume', target: '/data' });
    assert.deepEqual(parseVolumeSpec('data:/data:ro'), { type: 'volume', source: 'data', target: '/data', readOnly: true });
    assert.deepEqual(parseVolumeSpec('./x:/x:rw,z'), { type: 'bind', source: './x', target: '/x', readOnly: false });
    assert.throws(() => parseVolumeSpec('data:/d:rshared'), /applies to bind mounts only/);
    assert.throws(() => parseVolumeSpec('./x:/x:nocopy'), /applies to named volumes only/);
  });
});

describe('compose: loadStack errors and warnings', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-compose-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('throws INVALID_ARGUMENT with every error, in file order, and formats them one per line', async () => {
    writeFileSync(join(dir, 'a.yml'), 'services:\n  web:\n    image: nginx\n    deploy: {replicas: x}\n');
    writeFileSync(join(dir, 'b.yml'), 'services:\n  web:\n    ports: ["x"]\n  db: {}\n');
    const err = await loadStack({ files: ['a.yml', 'b.yml'], name: 'app', cwd: dir, env: {} }).catch((e: unknown) => e);
    assert.ok(isStackError(err) && isShoalError(err, 'INVALID_ARGUMENT'));
    assert.deepEqual(formatStackErrors(err.issues).split('\n'), [
      `${dir}/a.yml:4:24: services.web.deploy.replicas must be an integer, not 'x'`,
      `${dir}/b.yml:3:13: services.web.ports[0]: invalid port 'x': target port 'x' is not a number`,
      `${dir}/b.yml:4:3: services.db: no image specified`,
    ]);
    assert.match(err.message, /^3 errors in stack file: /);
  });

  it('refuses a bad stack name and an empty file list', async () => {
    const err = await loadStack({ files: [], name: '-bad', cwd: dir, env: {} }).catch((e: unknown) => e);
    assert.ok(isStackError(err));
    assert.deepEqual(err.issues.map((i) => i.message.split(':')[0]), ['no stack file given (use -c FILE)', "invalid stack name '-bad'"]);
  });

  it('groups warnings as docker prints them, and names each service', async () => {
    writeFileSync(join(dir, 's.yml'), 'services:\n  a:\n    image: x\n    build: .\n    links: [b]\n  b:\n    image: y\n    container_name: b\n');
    const plan = await loadStack({ files: ['s.yml'], name: 'app', cwd: dir, env: {} });
    const text = formatStackWarnings(plan.warnings).split('\n');
    assert.equal(text[0], 'Ignoring unsupported options: build, links');
    assert.equal(text[1], 'Ignoring deprecated options: container_name');
    assert.ok(text.includes(`${dir}/s.yml:8:5: service b: ignoring deprecated option 'container_name': Setting the container name is not supported.`));
  });

  it('keeps a $$ that came from a merged anchor literal (interpolated once)', async () => {
    writeFileSync(join(dir, 's.yml'), 'x-e: &e\n  environment: {P: "$$HOME"}\nservices:\n  a:\n    <<: *e\n    image: x\n  b:\n    <<: *e\n    image: y\n');
    const plan = await loadStack({ files: ['s.yml'], name: 'app', cwd: dir, env: { HOME: '/root' } });
    assert.deepEqual(plan.services.map((s) => s.spec.TaskTemplate?.ContainerSpec?.Env), [['P=$HOME'], ['P=$HOME']]);
  });
});
