import assert from 'node:assert/strict';
import { formatTimestampNs, LogAssembler, parseK8sLine, parseLog, parseTail, parseTimestampNs, parseUnixNs, selectEntries } from '../../../worker/engine/containers/logs';

const file = [
  '2026-01-02T03:04:05.000000001+00:00 stdout F one',
  '2026-01-02T03:04:06.5+00:00 stderr F two',
  '2026-01-02T03:04:07.000000000+00:00 stdout P thr',
  '2026-01-02T03:04:07.100000000+00:00 stderr F between',
  '2026-01-02T03:04:07.200000000+00:00 stdout F ee',
  'garbage line',
  '2026-01-02T05:04:08.000000000+02:00 stdout F four',
  '2026-01-02T03:04:09.000000000+00:00 stdout P no newline yet',
  '',
].join('\n');

describe('containers/logs (conmon k8s-file)', () => {
  it('parses a line: time, stream, partial flag, bytes', () => {
    const l = parseK8sLine(Buffer.from('2026-01-02T03:04:05.123456789+00:00 stderr F hello world'))!;
    assert.equal(l.stream, 2);
    assert.equal(l.partial, false);
    assert.equal(l.content.toString(), 'hello world');
    assert.equal(l.timeNs, BigInt(Date.parse('2026-01-02T03:04:05Z')) * 1_000_000n + 123456789n);
    assert.equal(parseK8sLine(Buffer.from('2026-01-02T03:04:05Z stdout F '))?.content.length, 0);
    assert.equal(parseK8sLine(Buffer.from('nonsense')), undefined);
    assert.equal(parseK8sLine(Buffer.from('2026-01-02T03:04:05Z stdin F x')), undefined);
  });

  it('joins partial pieces per stream and restores newlines', () => {
    const e = parseLog(Buffer.from(file));
    assert.deepEqual(e.map((x) => [x.stream, x.data.toString()]), [
      [1, 'one\n'],
      [2, 'two\n'],
      [2, 'between\n'],
      [1, 'three\n'],
      [1, 'four\n'],
      [1, 'no newline yet'],
    ]);
    const asm = new LogAssembler();
    assert.equal(asm.push(parseK8sLine(Buffer.from('2026-01-02T03:04:07Z stdout P x'))!), undefined);
    assert.equal(asm.flush()[0].data.toString(), 'x');
  });

  it('reads timestamps with any offset and writes them as Docker does (UTC, 9 digits)', () => {
    assert.equal(parseTimestampNs('2026-01-02T05:04:08+02:00'), parseTimestampNs('2026-01-02T03:04:08.000000000Z'));
    assert.equal(formatTimestampNs(parseTimestampNs('2026-01-02T03:04:06.5+00:00')!), '2026-01-02T03:04:06.500000000Z');
  });

  it('filters by stream, since, until, and tails after filtering', () => {
    const e = parseLog(Buffer.from(file));
    assert.deepEqual(selectEntries(e, { stdout: true, stderr: false }).map((x) => x.data.toString()), ['one\n', 'three\n', 'four\n', 'no newline yet']);
    assert.deepEqual(selectEntries(e, { stdout: true, stderr: true, tail: 2 }).map((x) => x.data.toString()), ['four\n', 'no newline yet']);
    assert.deepEqual(selectEntries(e, { stdout: true, stderr: true, tail: 0 }), []);
    const since = parseUnixNs(String(Date.parse('2026-01-02T03:04:06Z') / 1000), 'since');
    const until = parseUnixNs(`${Date.parse('2026-01-02T03:04:08Z') / 1000}.000000000`, 'until');
    assert.deepEqual(selectEntries(e, { stdout: true, stderr: true, sinceNs: since, untilNs: until }).map((x) => x.data.toString()), ['two\n', 'between\n', 'three\n', 'four\n']);
  });

  it('parses since/until and tail values', () => {
    assert.equal(parseUnixNs('1700000000.5', 'since'), 1_700_000_000_500_000_000n);
    assert.equal(parseUnixNs('0', 'since'), undefined);
    assert.throws(() => parseUnixNs('yesterday', 'since'), /invalid value for since/);
    assert.equal(parseTail('all'), undefined);
    assert.equal(parseTail('3'), 3);
    assert.equal(parseTail('-1'), undefined);
    assert.throws(() => parseTail('x'), /invalid value for tail/);
  });
});
