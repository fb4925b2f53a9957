import assert from 'node:assert/strict';
import { classifyTarPath, planWhiteouts, planUpperTar, cleanTarPath, devMajor, devMinor, type UpperNode } from '../../../worker/engine/images/whiteout';
import { unescapeGetfattr } from '../../../worker/engine/images/layers';

const t0 = new Date(0);
const node = (n: Partial<UpperNode> & Pick<UpperNode, 'path' | 'type'>): UpperNode => ({ mode: 0o755, uid: 0, gid: 0, size: 0, mtime: t0, ...n });

describe('images/whiteout', () => {
  it('cleans tar member names', () => {
    assert.equal(cleanTarPath('./etc/passwd'), 'etc/passwd');
    assert.equal(cleanTarPath('/bin/'), 'bin');
    assert.equal(cleanTarPath('./'), '');
    assert.equal(cleanTarPath('a/../../x'), 'x');
  });

  it('classifies OCI whiteouts', () => {
    assert.deepEqual(classifyTarPath('./etc/.wh.hosts'), { kind: 'whiteout', path: 'etc/.wh.hosts', target: 'etc/hosts' });
    assert.deepEqual(classifyTarPath('.wh.top'), { kind: 'whiteout', path: '.wh.top', target: 'top' });
    assert.deepEqual(classifyTarPath('var/cache/.wh..wh..opq'), { kind: 'opaque', path: 'var/cache/.wh..wh..opq', dir: 'var/cache' });
    assert.deepEqual(classifyTarPath('.wh..wh..opq'), { kind: 'opaque', path: '.wh..wh..opq', dir: '' });
    assert.deepEqual(classifyTarPath('.wh..wh.plnk/1'), { kind: 'normal', path: '.wh..wh.plnk/1' });
    assert.equal(classifyTarPath('.wh..wh.plnk').kind, 'meta');
    assert.equal(classifyTarPath('etc/.what').kind, 'normal');
    assert.equal(classifyTarPath('etc/.wh.').kind, 'normal');
  });

  it('plans whiteout conversion once per name', () => {
    const plan = planWhiteouts(['etc/', 'etc/.wh.hosts', './etc/.wh.hosts', 'opt/.wh..wh..opq', 'bin/sh', '.wh..wh.aufs']);
    assert.deepEqual(plan.whiteouts, [{ marker: 'etc/.wh.hosts', target: 'etc/hosts' }]);
    assert.deepEqual(plan.opaques, [{ marker: 'opt/.wh..wh..opq', dir: 'opt' }]);
    assert.deepEqual(plan.drop, ['.wh..wh.aufs']);
  });

  it('turns an upper dir into OCI tar entries', () => {
    const nodes: UpperNode[] = [
      node({ path: 'etc', type: 'dir' }),
      node({ path: 'etc/hosts', type: 'char', rdevMajor: 0, rdevMinor: 0, mode: 0 }),
      node({ path: 'etc/null', type: 'char', rdevMajor: 1, rdevMinor: 3, mode: 0o666 }),
      node({ path: 'opt', type: 'dir', opaque: true, uid: 5 }),
      node({ path: 'opt/a', type: 'file', size: 3, inode: '1:9', nlink: 2, mode: 0o4755 }),
      node({ path: 'opt/b', type: 'file', size: 3, inode: '1:9', nlink: 2 }),
      node({ path: 'opt/l', type: 'symlink', linkTarget: '../etc' }),
      node({ path: 'opt/s', type: 'socket' }),
      node({ path: 'opt/f', type: 'fifo' }),
    ];
    const plan = planUpperTar(nodes);
    assert.deepEqual(
      plan.map((e) => [e.path, e.type]),
      [
        ['etc', 'Directory'],
        ['etc/.wh.hosts', 'File'],
        ['etc/null', 'CharacterDevice'],
        ['opt', 'Directory'],
        ['opt/.wh..wh..opq', 'File'],
        ['opt/a', 'File'],
        ['opt/b', 'Link'],
        ['opt/l', 'SymbolicLink'],
        ['opt/f', 'FIFO'],
      ],
    );
    assert.equal(plan[2].devmaj, 1);
    assert.equal(plan[2].devmin, 3);
    assert.equal(plan[3].uid, 5);
    assert.equal(plan[5].mode, 0o4755);
    assert.equal(plan[5].source, 'opt/a');
    assert.equal(plan[6].linkpath, 'opt/a');
    assert.equal(plan[7].linkpath, '../etc');
  });

  it('splits device numbers like glibc', () => {
    const rdev = (259 << 8) | 5; // small major/minor encoding
    assert.equal(devMajor(rdev), 259 & 0xfff);
    assert.equal(devMinor(rdev), 5);
    assert.equal(devMajor(0), 0);
    assert.equal(devMinor(0x100005), 0x105); // minor bits 8.. live at bit 20 and up
    assert.equal(devMajor(0x100005), 0);
  });

  it('decodes getfattr name escapes', () => {
    assert.equal(unescapeGetfattr('/a\\012b'), '/a\nb');
    assert.equal(unescapeGetfattr('/plain'), '/plain');
  });
});
