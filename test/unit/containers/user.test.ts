import assert from 'node:assert/strict';
import { parseGroup, parsePasswd, resolveUser } from '../../../worker/engine/containers/user';

const passwd = parsePasswd('root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n# comment\nbroken line\n');
const group = parseGroup('root:x:0:\ntty:x:5:app\nwww-data:x:33:\nstaff:x:50:app,www-data\napp:x:1000:\n');

describe('containers/resolveUser (against the image passwd and group files)', () => {
  it('defaults to root', () => {
    assert.deepEqual(resolveUser('', passwd, group), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
  });
  it('resolves a name with its primary and supplementary groups and home', () => {
    assert.deepEqual(resolveUser('app', passwd, group), { uid: 1000, gid: 1000, additionalGids: [5, 50], home: '/home/app' });
  });
  it('takes a bare uid, found or not', () => {
    assert.deepEqual(resolveUser('33', passwd, group), { uid: 33, gid: 33, additionalGids: [50], home: '/var/www' });
    assert.deepEqual(resolveUser('4242', passwd, group), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
  });
  it('uid:gid and name:group override the primary group and skip passwd memberships', () => {
    assert.deepEqual(resolveUser('1000:33', passwd, group), { uid: 1000, gid: 33, additionalGids: [], home: '/home/app' });
    assert.deepEqual(resolveUser('app:staff', passwd, group), { uid: 1000, gid: 50, additionalGids: [], home: '/home/app' });
    assert.deepEqual(resolveUser('4242:4243', passwd, group), { uid: 4242, gid: 4243, additionalGids: [], home: '/' });
  });
  it('adds GroupAdd by name or number', () => {
    assert.deepEqual(resolveUser('www-data', passwd, group, ['tty', '777']).additionalGids, [5, 50, 777]);
  });
  it('names a missing user or group clearly', () => {
    assert.throws(() => resolveUser('nobody', passwd, group), /unable to find user nobody: no matching entries in passwd file/);
    assert.throws(() => resolveUser('app:wheel', passwd, group), /unable to find group wheel: no matching entries in group file/);
  });
});
