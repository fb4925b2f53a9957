import assert from 'node:assert/strict';
import { chooseFiles, normalizeProjectName, projectName, ProjectError } from '../../../cli/compose';
import { containerName, scopedName, shortContainerName, projectFilter } from '../../../cli/compose/labels';

describe('compose-cli: project name and files', () => {
  it('normalizes a directory name as docker compose does', () => {
    const cases: Array<[string, string]> = [
      ['MyApp', 'myapp'],
      ['my app.v2', 'myappv2'],
      ['_-x_y-z', 'x_y-z'],
      ['Straße', 'strae'],
      ['...', ''],
    ];
    for (const [input, want] of cases) assert.equal(normalizeProjectName(input), want, input);
  });

  it('takes -p, then COMPOSE_PROJECT_NAME, then the first file\'s directory', () => {
    const files = ['/srv/Shop.App/compose.yaml', '/elsewhere/override.yaml'];
    assert.equal(projectName({ flag: 'given', env: { COMPOSE_PROJECT_NAME: 'fromenv' }, files, cwd: '/x' }), 'given');
    assert.equal(projectName({ env: { COMPOSE_PROJECT_NAME: 'From Env' }, files, cwd: '/x' }), 'fromenv');
    assert.equal(projectName({ env: {}, files, cwd: '/x' }), 'shopapp');
    assert.equal(projectName({ env: {}, files: [], cwd: '/home/u/Work_Dir' }), 'work_dir');
  });

  it('refuses an invalid -p and a name that normalizes to nothing', () => {
    assert.throws(() => projectName({ flag: 'Bad', env: {}, files: [], cwd: '/' }), (e: unknown) => e instanceof ProjectError && /invalid project name "Bad"/.test(e.message));
    assert.throws(() => projectName({ flag: '-x', env: {}, files: [], cwd: '/' }), ProjectError);
    assert.throws(() => projectName({ env: {}, files: ['/.../compose.yaml'], cwd: '/' }), /must not be empty/);
  });

  it('chooses -f files, else COMPOSE_FILE, else the default name and its override', () => {
    const present = new Set(['/p/docker-compose.yml', '/p/docker-compose.override.yml', '/p/compose.yml', '/q/docker-compose.yaml']);
    const exists = (p: string) => present.has(p);
    assert.deepEqual(chooseFiles({ flags: ['a.yml', '/abs/b.yml'], env: { COMPOSE_FILE: 'ignored' }, cwd: '/p', exists }), { files: ['/p/a.yml', '/abs/b.yml'], defaulted: false });
    assert.deepEqual(chooseFiles({ env: { COMPOSE_FILE: 'one.yml:sub/two.yml' }, cwd: '/p', exists }).files, ['/p/one.yml', '/p/sub/two.yml']);
    assert.deepEqual(chooseFiles({ env: { COMPOSE_FILE: 'one.yml;two.yml', COMPOSE_PATH_SEPARATOR: ';' }, cwd: '/p', exists }).files, ['/p/one.yml', '/p/two.yml']);
    // compose.yml comes before docker-compose.yml in compose's order; its override is absent.
    assert.deepEqual(chooseFiles({ env: {}, cwd: '/p', exists }), { files: ['/p/compose.yml'], defaulted: true });
    present.delete('/p/compose.yml');
    assert.deepEqual(chooseFiles({ env: {}, cwd: '/p', exists }).files, ['/p/docker-compose.yml', '/p/docker-compose.override.yml']);
    assert.deepEqual(chooseFiles({ env: {}, cwd: '/q', exists }).files, ['/q/docker-compose.yaml']);
    assert.deepEqual(chooseFiles({ env: {}, cwd: '/none', exists }).files, []);
  });

  it('names containers, networks and volumes as compose v2 does', () => {
    assert.equal(containerName('shop', 'web', 2), 'shop-web-2');
    assert.equal(scopedName('shop', 'default'), 'shop_default');
    assert.equal(shortContainerName('shop', '/shop-web-2'), 'web-2');
    assert.equal(shortContainerName('shop', 'other-web-1'), 'other-web-1');
    assert.deepEqual(JSON.parse(projectFilter('shop')), { label: ['com.docker.compose.project=shop'] });
  });
});
