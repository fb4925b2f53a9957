import assert from 'node:assert/strict';
import { validateLocalOptions, validateVolumeName } from '../../../worker/engine/volumes';
import { isShoalError } from '../../../shared/errors';

describe('volumes/validation', () => {
  it('accepts Docker-valid local volume names', () => {
    for (const n of ['ab', 'data', 'my_vol-1.2', 'A9', 'x'.repeat(64)]) validateVolumeName(n);
  });

  it('rejects invalid names with Docker\'s message', () => {
    for (const n of ['a', '', '-x', '.x', 'a/b', '/abs/path', 'a b', 'a:b']) {
      assert.throws(() => validateVolumeName(n), (e: unknown) => isShoalError(e, 'INVALID_ARGUMENT') && /includes invalid characters for a local volume name/.test((e as Error).message), n);
    }
  });

  it('accepts the local driver options and rejects others', () => {
    validateLocalOptions({});
    validateLocalOptions({ type: 'tmpfs', o: 'size=1m' });
    validateLocalOptions({ type: 'none', o: 'bind', device: '/srv/x' });
    assert.throws(() => validateLocalOptions({ size: '1m' }), /invalid option for the local volume driver: 'size'/);
    assert.throws(() => validateLocalOptions({ o: 'bind', device: '/x' }), /need a type/);
    assert.throws(() => validateLocalOptions({ type: 'none', o: 'bind' }), /needs a device/);
  });
});
