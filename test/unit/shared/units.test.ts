import assert from 'node:assert/strict';
import { parseBytes, parseDurationMs, parseNanoCpus, formatBytes } from '../../../shared/units';

describe('size parsing', () => {
  const cases: Array<[string | number, number]> = [
    ['512', 512], ['64m', 64 * 1024 ** 2], ['64M', 64 * 1024 ** 2], ['1g', 1024 ** 3], ['1.5g', 1.5 * 1024 ** 3],
    ['2GB', 2 * 1024 ** 3], ['100KiB', 100 * 1024], ['10b', 10], [4096, 4096],
  ];
  for (const [input, want] of cases) it(`${JSON.stringify(input)} -> ${want}`, () => assert.equal(parseBytes(input), want));
  for (const bad of ['', 'abc', '12x', '-5m', '1.2.3g', 'm']) {
    it(`rejects ${JSON.stringify(bad)} naming the field`, () => assert.throws(() => parseBytes(bad, 'memory'), /invalid memory/));
  }
});

describe('duration parsing', () => {
  const cases: Array<[string, number]> = [['10s', 10_000], ['1m30s', 90_000], ['500ms', 500], ['2h', 7_200_000], ['0', 0], ['1.5s', 1500], ['250us', 0.25]];
  for (const [input, want] of cases) it(`${input} -> ${want} ms`, () => assert.equal(parseDurationMs(input), want));
  for (const bad of ['', '10', 'ten seconds', '5x', '1m 30s', 's']) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.throws(() => parseDurationMs(bad, 'interval'), /invalid interval/));
  }
});

describe('cpu parsing', () => {
  it('turns decimal CPUs into NanoCPUs', () => {
    assert.equal(parseNanoCpus('1.5'), 1_500_000_000);
    assert.equal(parseNanoCpus(0.25), 250_000_000);
  });
  it('rejects non-numbers', () => assert.throws(() => parseNanoCpus('lots'), /invalid cpus/));
});

describe('size formatting', () => {
  it('prints sizes the way docker does (decimal units)', () => {
    assert.equal(formatBytes(999), '999B');
    assert.equal(formatBytes(2_140_160), '2.14MB');
    assert.equal(formatBytes(15_300_000), '15.3MB');
  });
});
