import assert from 'node:assert/strict';
import { expandWord, splitWords, ExpansionError, expandInstruction, lexDockerfile, parseInstruction } from '../../../worker/engine/build/dockerfile';

const env = ['A=apple', 'EMPTY=', 'PATH=/usr/bin', 'A=shadowed'];
const x = (w: string, escape = '\\') => expandWord(w, env, escape);

describe('Dockerfile variable expansion', () => {
  it('substitutes $VAR and ${VAR}; unset is empty; the first definition wins', () => {
    assert.equal(x('$A'), 'apple');
    assert.equal(x('${A}s'), 'apples');
    assert.equal(x('$As'), ''); // the name is "As"
    assert.equal(x('$NOPE-x'), '-x');
    assert.equal(x('$PATH:/bin'), '/usr/bin:/bin');
  });

  it('${VAR:-default} and ${VAR-default}', () => {
    assert.equal(x('${NOPE:-dflt}'), 'dflt');
    assert.equal(x('${EMPTY:-dflt}'), 'dflt');
    assert.equal(x('${EMPTY-dflt}'), '');
    assert.equal(x('${A:-dflt}'), 'apple');
    assert.equal(x('${NOPE:-$A/x}'), 'apple/x'); // nested expansion in the word
  });

  it('${VAR:+alt} and ${VAR+alt}', () => {
    assert.equal(x('${A:+alt}'), 'alt');
    assert.equal(x('${EMPTY:+alt}'), '');
    assert.equal(x('${EMPTY+alt}'), 'alt');
    assert.equal(x('${NOPE:+alt}'), '');
  });

  it('${VAR:?msg} fails when unset or empty', () => {
    assert.equal(x('${A:?must be set}'), 'apple');
    assert.throws(() => x('${NOPE:?must be set}'), /NOPE: must be set/);
    assert.throws(() => x('${EMPTY:?}'), /EMPTY: is not allowed to be empty/);
    assert.throws(() => x('${NOPE?}'), /NOPE: is not allowed to be unset/);
  });

  it('quotes: single quotes are literal, double quotes expand; both are removed', () => {
    assert.equal(x("'$A'"), '$A');
    assert.equal(x('"$A pie"'), 'apple pie');
    assert.equal(x('"it\'s"'), "it's");
    assert.equal(x('a"b"c'), 'abc');
  });

  it('escapes: \\$ is a dollar, \\\\ a backslash; in double quotes only " $ and \\ are escapable', () => {
    assert.equal(x('\\$A'), '$A');
    assert.equal(x('a\\\\b'), 'a\\b');
    assert.equal(x('"\\$A \\"q\\" \\n"'), '$A "q" \\n');
    assert.equal(x('a\\ b'), 'a b');
  });

  it('uses the escape directive\'s token', () => {
    assert.equal(x('`$A', '`'), '$A');
    assert.equal(x('C:\\dir', '`'), 'C:\\dir');
  });

  it('a lone $ stays; bad syntax is an error', () => {
    assert.equal(x('cost: $'), 'cost: $');
    assert.equal(x('$$'), '$$');
    assert.throws(() => x('${A'), ExpansionError);
    assert.throws(() => x('${}'), /bad substitution/);
    assert.throws(() => x('${A:=x}'), /unsupported modifier \(=\)/);
    assert.throws(() => x('"open'), /matching double-quote/);
    assert.throws(() => x("'open"), /matching single-quote/);
  });

  it('splitWords keeps quotes and escapes for later expansion', () => {
    assert.deepEqual(splitWords('a=1 b="x y"  c=\'p q\' d=e\\ f'), ['a=1', 'b="x y"', "c='p q'", 'd=e\\ f']);
    assert.deepEqual(splitWords('  '), []);
  });

  it('expands the fields Docker expands, and not RUN/CMD', () => {
    const ins = (t: string) => {
      const l = lexDockerfile(t);
      return parseInstruction(l.nodes[0], l.escape);
    };
    const f = (w: string) => expandWord(w, ['D=/data', 'U=app'], '\\');
    assert.deepEqual((expandInstruction(ins('COPY --chown=$U ${D}/a $D/') , f) as { sources: string[]; dest: string; chown: string }).sources, ['/data/a']);
    assert.equal((expandInstruction(ins('COPY --chown=$U a $D/'), f) as { chown: string }).chown, 'app');
    assert.equal((expandInstruction(ins('WORKDIR $D/w'), f) as { path: string }).path, '/data/w');
    assert.deepEqual((expandInstruction(ins('ENV X="$D y"'), f) as { pairs: unknown }).pairs, [{ key: 'X', value: '/data y' }]);
    assert.deepEqual((expandInstruction(ins('RUN echo $D'), f) as { cmd: unknown }).cmd, { json: false, shell: 'echo $D' });
  });
});
