import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isShoalError } from '../../../shared/errors';
import { formatJoinToken, parseJoinToken, randomJoinSecret } from '../../../shared/rpc';
import { generateJoinToken, matchJoinToken, newJoinTokens, rotateJoinToken } from '../../../manager/ca';

const code = (c: string, re?: RegExp) => (e: unknown) => isShoalError(e) && e.code === c && (!re || re.test(e.message));
const digestOf = (s: string) => createHash('sha256').update(s).digest('hex');

describe('join token format', () => {
  const digest = digestOf('a root certificate');

  it('is SWMTKN-1-<50 base-36 digits>-<25 base-36 digits>', () => {
    const t = generateJoinToken(digest);
    assert.match(t, /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
    assert.equal(t.length, 85);
  });

  it('carries the CA digest: base 36 of the SHA-256, zero-padded to 50 digits', () => {
    const t = formatJoinToken(digest, 'abcdefghijklmnopqrstuvwxy');
    const base36 = t.split('-')[2];
    assert.equal(base36, BigInt(`0x${digest}`).toString(36).padStart(50, '0'));
    assert.deepEqual(parseJoinToken(t), { caDigest: digest, secret: 'abcdefghijklmnopqrstuvwxy' });
  });

  it('round-trips the smallest and the largest digests', () => {
    for (const d of ['0'.repeat(63) + '1', 'f'.repeat(64), '0'.repeat(64)]) {
      assert.equal(parseJoinToken(formatJoinToken(d, randomJoinSecret())).caDigest, d);
    }
  });

  it('makes secrets of 25 base-36 digits that differ', () => {
    const seen = new Set(Array.from({ length: 50 }, randomJoinSecret));
    assert.equal(seen.size, 50);
    for (const s of seen) assert.match(s, /^[0-9a-z]{25}$/);
  });

  const good = formatJoinToken(digest, 'abcdefghijklmnopqrstuvwxy');
  const malformed: Array<[string, string]> = [
    ['empty', ''],
    ['short parts', 'SWMTKN-1-abc-def'],
    ['another version', good.replace('SWMTKN-1', 'SWMTKN-3')],
    ['another prefix', good.replace('SWMTKN', 'SWMTOK')],
    ['a secret one digit short', good.slice(0, -1)],
    ['a secret one digit long', `${good}z`],
    ['upper case', good.toUpperCase()],
    ['a digest above 2^256', `SWMTKN-1-${'z'.repeat(50)}-abcdefghijklmnopqrstuvwxy`],
    ['a secret above 2^128', `SWMTKN-1-${'0'.repeat(50)}-${'z'.repeat(25)}`],
  ];
  for (const [what, t] of malformed) {
    it(`rejects ${what} as INVALID_ARGUMENT "invalid join token"`, () => {
      assert.throws(() => parseJoinToken(t), code('INVALID_ARGUMENT', /^invalid join token$/));
    });
  }

  it('accepts surrounding white space (pasted tokens)', () => {
    assert.equal(parseJoinToken(` ${good}\n`).caDigest, digest);
  });
});

describe('join token checking', () => {
  const digest = digestOf('root');
  const tokens = newJoinTokens(digest);

  it('says which role a current token joins as', () => {
    assert.equal(matchJoinToken(tokens.worker, tokens), 'worker');
    assert.equal(matchJoinToken(tokens.manager, tokens), 'manager');
    assert.equal(matchJoinToken(`${tokens.manager}\n`, tokens), 'manager');
  });

  it('refuses a well-formed token that is not current with PERMISSION_DENIED "invalid join token"', () => {
    const other = generateJoinToken(digest);
    assert.throws(() => matchJoinToken(other, tokens), code('PERMISSION_DENIED', /^invalid join token$/));
  });

  it('refuses a token with the right secret but another CA digest', () => {
    const { secret } = parseJoinToken(tokens.worker);
    assert.throws(() => matchJoinToken(formatJoinToken(digestOf('another root'), secret), tokens), code('PERMISSION_DENIED'));
  });

  it('refuses a malformed token with INVALID_ARGUMENT', () => {
    assert.throws(() => matchJoinToken('SWMTKN-1-x', tokens), code('INVALID_ARGUMENT', /^invalid join token$/));
  });

  it('rotation replaces one role only; the old token stops matching', () => {
    const rotated = rotateJoinToken(tokens, 'worker', digest);
    assert.equal(rotated.manager, tokens.manager);
    assert.notEqual(rotated.worker, tokens.worker);
    assert.equal(matchJoinToken(rotated.worker, rotated), 'worker');
    assert.throws(() => matchJoinToken(tokens.worker, rotated), code('PERMISSION_DENIED'));
  });
});
