import assert from 'node:assert/strict';
import { IgnoreMatcher, parseIgnoreFile, globToRegExp, hasWildcards, cleanPath } from '../../../worker/engine/build/ignore';

const m = (patterns: string[]) => new IgnoreMatcher(patterns);

describe('.dockerignore matching', () => {
  it('reads the file as Docker does: comments, blanks, cleaning, leading slash, exceptions', () => {
    assert.deepEqual(parseIgnoreFile('# comment\n\n  node_modules/  \n/tmp\n./a/../b\n! keep.txt\n**/*.log\n'), ['node_modules', 'tmp', 'b', '!keep.txt', '**/*.log']);
  });

  it('matches plain names only at the top level (no implicit **)', () => {
    const x = m(['secret.txt']);
    assert.equal(x.ignores('secret.txt'), true);
    assert.equal(x.ignores('sub/secret.txt'), false);
  });

  it('excludes everything below an excluded directory', () => {
    const x = m(['build']);
    assert.equal(x.ignores('build'), true);
    assert.equal(x.ignores('build/a/b.o'), true);
    assert.equal(x.ignores('builds'), false);
  });

  it('* and ? do not cross a slash; [] classes work', () => {
    const x = m(['*.md', 'doc/?.txt', 'v[0-9]']);
    assert.equal(x.ignores('README.md'), true);
    assert.equal(x.ignores('docs/README.md'), false);
    assert.equal(x.ignores('doc/a.txt'), true);
    assert.equal(x.ignores('doc/ab.txt'), false);
    assert.equal(x.ignores('v1'), true);
    assert.equal(x.ignores('vx'), false);
  });

  it('** matches any number of directories, including none', () => {
    const x = m(['**/*.log', 'cache/**', 'a/**/z']);
    assert.equal(x.ignores('x.log'), true);
    assert.equal(x.ignores('deep/er/x.log'), true);
    assert.equal(x.ignores('cache/1/2'), true);
    assert.equal(x.ignores('a/z'), true);
    assert.equal(x.ignores('a/b/c/z'), true);
    assert.equal(x.ignores('a/b/c/y'), false);
  });

  it('! exceptions re-include, and the last matching pattern wins', () => {
    const x = m(['*.txt', '!important.txt', 'important*']);
    assert.equal(x.ignores('a.txt'), true);
    assert.equal(x.ignores('important.txt'), true); // excluded again by the last pattern
    const y = m(['docs', '!docs/keep.md']);
    assert.equal(y.ignores('docs/drop.md'), true);
    assert.equal(y.ignores('docs/keep.md'), false);
    assert.equal(y.mayReincludeUnder('docs'), true);
    assert.equal(m(['docs']).mayReincludeUnder('docs'), false);
  });

  it('escapes and regexp metacharacters are literal as in filepath.Match', () => {
    const x = m(['a.b', 'c+d', 'e\\*f', '(g)']);
    assert.equal(x.ignores('a.b'), true);
    assert.equal(x.ignores('axb'), false);
    assert.equal(x.ignores('c+d'), true);
    assert.equal(x.ignores('e*f'), true);
    assert.equal(x.ignores('exf'), false);
    assert.equal(x.ignores('(g)'), true);
  });

  it('rejects a lone ! and malformed patterns', () => {
    assert.throws(() => m(['!']), /illegal exclusion pattern/);
    assert.throws(() => globToRegExp('[abc'), /syntax error in pattern/);
  });
});

describe('COPY wildcards (filepath.Match)', () => {
  it('matches whole relative paths, * within one segment', () => {
    assert.equal(globToRegExp('*.txt').test('a.txt'), true);
    assert.equal(globToRegExp('*.txt').test('d/a.txt'), false);
    assert.equal(globToRegExp('d/*.txt').test('d/a.txt'), true);
    assert.equal(globToRegExp('file?').test('file1'), true);
    assert.equal(globToRegExp('[^a]x').test('bx'), true);
    assert.equal(globToRegExp('[^a]x').test('ax'), false);
    assert.equal(globToRegExp('a^b').test('a^b'), true);
  });
  it('knows a wildcard from an escaped one', () => {
    assert.equal(hasWildcards('a*'), true);
    assert.equal(hasWildcards('a\\*'), false);
    assert.equal(hasWildcards('plain/path'), false);
  });
  it('cleanPath behaves like Go filepath.Clean', () => {
    assert.equal(cleanPath(''), '.');
    assert.equal(cleanPath('./a/b/'), 'a/b');
    assert.equal(cleanPath('a/../../b'), '../b');
    assert.equal(cleanPath('/'), '/');
  });
});
