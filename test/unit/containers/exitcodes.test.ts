import assert from 'node:assert/strict';
import { classifyStartFailure, exitCodeOf, parseExitFile, signalExitCode } from '../../../worker/engine/containers/exitcodes';
import { parseSignal } from '../../../worker/engine/runtime/oci';
import { httpStatus } from '../../../shared/errors';

describe('containers/exit codes', () => {
  it('maps signals to 128+N and keeps plain codes', () => {
    assert.equal(signalExitCode(9), 137);
    assert.equal(signalExitCode(15), 143);
    assert.equal(exitCodeOf({ signal: 9 }), 137);
    assert.equal(exitCodeOf({ code: 3 }), 3);
    assert.equal(exitCodeOf({}), 255);
  });

  it('reads conmon exit files', () => {
    assert.equal(parseExitFile('137'), 137);
    assert.equal(parseExitFile('0\n'), 0);
    assert.equal(parseExitFile('-1'), 255);
    assert.equal(parseExitFile(''), 255);
  });

  it('parses signal names, numbers and real-time signals', () => {
    assert.equal(parseSignal('SIGTERM'), 15);
    assert.equal(parseSignal('kill'), 9);
    assert.equal(parseSignal('10'), 10);
    assert.equal(parseSignal('SIGRTMIN+3'), 37);
    assert.equal(parseSignal('RTMAX'), 64);
    assert.equal(parseSignal('SIGFOO'), undefined);
    assert.equal(parseSignal('0'), undefined);
    assert.equal(parseSignal(65), undefined);
  });

  it('translates crun\'s missing-binary message into docker\'s, exit 127, 400', () => {
    const f = classifyStartFailure('executable file `nope` not found in $PATH: No such file or directory\n');
    assert.equal(f.exitCode, 127);
    assert.equal(f.message, 'exec: "nope": executable file not found in $PATH');
    assert.equal(httpStatus(f.error), 400);
    assert.match(f.error.message, /exec: "nope": executable file not found in \$PATH/);
  });

  it('and runc\'s', () => {
    const f = classifyStartFailure('time="2026-11-22T05:29:01Z" level=error msg="runc create failed: unable to start container process: exec: \\"nope\\": executable file not found in $PATH"\n');
    assert.equal(f.exitCode, 127);
    assert.equal(f.message, 'exec: "nope": executable file not found in $PATH');
  });

  it('a missing absolute path is 127, a permission problem 126, anything else 500', () => {
    assert.equal(classifyStartFailure('open executable: `/nope`: No such file or directory').exitCode, 127);
    const p = classifyStartFailure('exec `/etc/passwd`: Permission denied');
    assert.equal(p.exitCode, 126);
    assert.equal(httpStatus(p.error), 400);
    const o = classifyStartFailure('cgroup: something broke');
    assert.equal(httpStatus(o.error), 500);
    assert.match(o.message, /something broke/);
  });
});
