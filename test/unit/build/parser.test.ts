import assert from 'node:assert/strict';
import { lexDockerfile, parseInstruction, parseDockerfile, type Instruction } from '../../../worker/engine/build/dockerfile';
import { isShoalError } from '../../../shared/errors';

/** Parse a one-instruction Dockerfile fragment. */
function one(text: string): Instruction {
  const lexed = lexDockerfile(text);
  assert.equal(lexed.nodes.length, 1, `expected one instruction in ${JSON.stringify(text)}`);
  return parseInstruction(lexed.nodes[0], lexed.escape);
}

function parseError(text: string): string {
  try {
    parseDockerfile(text);
  } catch (e) {
    assert.ok(isShoalError(e, 'INVALID_ARGUMENT'), `expected INVALID_ARGUMENT, got ${String(e)}`);
    return (e as Error).message;
  }
  assert.fail(`expected a parse error for ${JSON.stringify(text)}`);
}

describe('Dockerfile lexer', () => {
  it('joins continuation lines, keeps line numbers of the first line, drops comments inside', () => {
    const { nodes } = lexDockerfile('FROM busybox\n# a comment\nRUN echo a \\\n  # skipped\n  b \\\n\n  c\nCMD x\n');
    assert.equal(nodes.length, 3);
    assert.equal(nodes[1].cmd, 'run');
    assert.equal(nodes[1].rest, 'echo a   b   c');
    assert.equal(nodes[1].startLine, 3);
    assert.equal(nodes[1].endLine, 7);
    assert.equal(nodes[2].startLine, 8);
  });

  it('warns about an empty continuation line, as Docker does', () => {
    const { warnings } = lexDockerfile('RUN a \\\n\n  b\n');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /Empty continuation line/);
  });

  it('honours the escape directive (backtick) for continuations and ignores syntax', () => {
    const { nodes, escape } = lexDockerfile('# syntax=docker/dockerfile:1\n# escape=`\nFROM busybox\nRUN echo a `\n  b\nCOPY a\\b c\\\n');
    assert.equal(escape, '`');
    assert.equal(nodes[1].rest, 'echo a   b');
    assert.equal(nodes[2].rest, 'a\\b c\\'); // a backslash is just a character now
  });

  it('stops looking for directives after the first other line', () => {
    const { escape } = lexDockerfile('FROM busybox\n# escape=`\n');
    assert.equal(escape, '\\');
    const { escape: e2 } = lexDockerfile('# hello\n# escape=`\nFROM busybox\n');
    assert.equal(e2, '\\');
  });

  it('rejects a bad or repeated escape directive naming the line', () => {
    assert.match(parseError('# escape=x\nFROM busybox\n'), /^Dockerfile parse error line 1: invalid escape token 'x'/);
    assert.match(parseError('# escape=`\n# escape=\\\nFROM busybox\n'), /line 2: only one escape parser directive/);
  });

  it('handles CRLF line ends, a BOM and leading whitespace', () => {
    const { nodes } = lexDockerfile('\uFEFFFROM busybox\r\n   run   echo hi\r\n');
    assert.equal(nodes[0].cmd, 'from');
    assert.equal(nodes[1].cmd, 'run');
    assert.equal(nodes[1].rest, 'echo hi');
    assert.equal(nodes[1].original, 'run   echo hi');
  });

  it('extracts builder flags, with quotes, and stops at the first non-flag word', () => {
    const { nodes } = lexDockerfile('COPY --from=build --chown="a b" src --not-a-flag /dst\n');
    assert.deepEqual(nodes[0].flags, ['--from=build', '--chown=a b']);
    assert.equal(nodes[0].rest, 'src --not-a-flag /dst');
  });
});

describe('Dockerfile instructions', () => {
  it('FROM: image, AS name (lower-cased), --platform', () => {
    assert.deepEqual(pick(one('FROM busybox'), ['kind', 'image', 'stageName']), { kind: 'FROM', image: 'busybox', stageName: undefined });
    const f = one('FROM --platform=linux/amd64 busybox:1.36 AS Build');
    assert.equal(f.kind === 'FROM' && f.stageName, 'build');
    assert.equal(f.kind === 'FROM' && f.platform, 'linux/amd64');
    assert.match(parseError('FROM a b'), /line 1: FROM requires either one or three arguments/);
    assert.match(parseError('FROM a AS 1x'), /invalid name for build stage: "1x"/);
    assert.match(parseError('FROM a TO b'), /second argument must be "AS"/);
  });

  it('RUN, CMD, ENTRYPOINT: JSON form vs shell form', () => {
    assert.deepEqual((one('RUN ["echo", "a b"]') as { cmd: unknown }).cmd, { json: true, args: ['echo', 'a b'] });
    assert.deepEqual((one('RUN echo "a b"') as { cmd: unknown }).cmd, { json: false, shell: 'echo "a b"' });
    // Not valid JSON: it is a shell command that happens to start with "[".
    assert.deepEqual((one('CMD [ -f x ] && echo y') as { cmd: unknown }).cmd, { json: false, shell: '[ -f x ] && echo y' });
    assert.deepEqual((one('ENTRYPOINT ["/bin/app"]') as { cmd: unknown }).cmd, { json: true, args: ['/bin/app'] });
    assert.match(parseError('FROM a\nRUN ["echo", 1]'), /line 2: when using JSON array syntax, arrays must be comprised of strings only/);
    assert.match(parseError('FROM a\nRUN --mount=type=cache,target=/x true'), /line 2: the --mount option requires BuildKit/);
    assert.equal((one('RUN --network=none true') as { network?: string }).network, 'none');
  });

  it('ENV and LABEL: name=value lists with quotes, and the legacy "name value" form', () => {
    assert.deepEqual((one('ENV a=1 b="two words" c=\'x\'') as { pairs: unknown }).pairs, [
      { key: 'a', value: '1' },
      { key: 'b', value: '"two words"' },
      { key: 'c', value: "'x'" },
    ]);
    assert.deepEqual((one('ENV PATH /usr/bin:/bin more words') as { pairs: unknown }).pairs, [{ key: 'PATH', value: '/usr/bin:/bin more words' }]);
    assert.deepEqual((one('LABEL "com.x"=y z=w') as { pairs: unknown }).pairs, [
      { key: '"com.x"', value: 'y' },
      { key: 'z', value: 'w' },
    ]);
    assert.match(parseError('FROM a\nENV onlyname'), /line 2: ENV must have two arguments/);
    assert.match(parseError('FROM a\nENV a=1 b'), /Syntax error - can't find = in "b"/);
    assert.match(parseError('FROM a\nENV =1'), /ENV names can not be blank/);
    assert.match(parseError('FROM a\nLABEL'), /LABEL requires at least one argument/);
  });

  it('ARG with and without defaults, several per line', () => {
    assert.deepEqual((one('ARG a b=2 c="x y"') as { args: unknown }).args, [{ key: 'a' }, { key: 'b', value: '2' }, { key: 'c', value: '"x y"' }]);
  });

  it('COPY and ADD: sources, destination, flags, JSON form', () => {
    const c = one('COPY --from=build --chown=1:2 --chmod=640 a b /dst/');
    assert.deepEqual(pick(c, ['kind', 'sources', 'dest', 'from', 'chown', 'chmod']), { kind: 'COPY', sources: ['a', 'b'], dest: '/dst/', from: 'build', chown: '1:2', chmod: '640' });
    const j = one('ADD ["a file", "/d e/"]');
    assert.deepEqual(pick(j, ['kind', 'sources', 'dest']), { kind: 'ADD', sources: ['a file'], dest: '/d e/' });
    assert.match(parseError('FROM a\nCOPY onlyone'), /line 2: COPY requires at least two arguments, but only one was provided/);
    assert.match(parseError('FROM a\nADD --from=x a b'), /line 2: Unknown flag: from/);
    assert.match(parseError('FROM a\nCOPY --chown a b'), /Missing a value on flag: chown/);
    assert.match(parseError('FROM a\nCOPY --parents=true a b'), /--parents option requires BuildKit/);
    assert.equal((one('COPY --link a b') as { kind: string }).kind, 'COPY');
  });

  it('WORKDIR, USER, STOPSIGNAL, MAINTAINER take the rest of the line', () => {
    assert.equal((one('WORKDIR /a b') as { path: string }).path, '/a b');
    assert.equal((one('USER app:app') as { user: string }).user, 'app:app');
    assert.equal((one('STOPSIGNAL SIGKILL') as { signal: string }).signal, 'SIGKILL');
    assert.equal((one('MAINTAINER Jane <j@x>') as { name: string }).name, 'Jane <j@x>');
    assert.match(parseError('FROM a\nWORKDIR'), /line 2: WORKDIR requires exactly one argument/);
  });

  it('EXPOSE and VOLUME: whitespace lists, VOLUME also in JSON form', () => {
    assert.deepEqual((one('EXPOSE 80 443/tcp 53/udp') as { ports: string[] }).ports, ['80', '443/tcp', '53/udp']);
    assert.deepEqual((one('VOLUME /a /b') as { paths: string[] }).paths, ['/a', '/b']);
    assert.deepEqual((one('VOLUME ["/c d"]') as { paths: string[] }).paths, ['/c d']);
    assert.match(parseError('FROM a\nVOLUME [""]'), /VOLUME specified can not be an empty string/);
  });

  it('SHELL must be JSON', () => {
    assert.deepEqual((one('SHELL ["/bin/ash", "-eo", "pipefail", "-c"]') as { shell: string[] }).shell, ['/bin/ash', '-eo', 'pipefail', '-c']);
    assert.match(parseError('FROM a\nSHELL /bin/sh -c'), /line 2: SHELL requires the arguments to be in JSON form/);
  });

  it('HEALTHCHECK: CMD in both forms with options, NONE, and the errors', () => {
    const h = one('HEALTHCHECK --interval=5s --timeout=1m30s --start-period=100ms --retries=3 CMD wget -q http://localhost/ || exit 1');
    assert.deepEqual(pick(h, ['test', 'interval', 'timeout', 'startPeriod', 'retries']), {
      test: ['CMD-SHELL', 'wget -q http://localhost/ || exit 1'],
      interval: 5e9,
      timeout: 90e9,
      startPeriod: 1e8,
      retries: 3,
    });
    assert.deepEqual((one('HEALTHCHECK CMD ["/bin/check", "-v"]') as { test: string[] }).test, ['CMD', '/bin/check', '-v']);
    assert.deepEqual((one('HEALTHCHECK NONE') as { test: string[] }).test, ['NONE']);
    assert.match(parseError('FROM a\nHEALTHCHECK NONE x'), /HEALTHCHECK NONE takes no arguments/);
    assert.match(parseError('FROM a\nHEALTHCHECK RUN x'), /Unknown type "RUN" in HEALTHCHECK \(try CMD\)/);
    assert.match(parseError('FROM a\nHEALTHCHECK --interval=1us CMD x'), /Interval "interval" cannot be less than 1ms/);
    assert.match(parseError('FROM a\nHEALTHCHECK --retries=-1 CMD x'), /--retries cannot be negative \(-1\)/);
    assert.match(parseError('FROM a\nHEALTHCHECK --timeout=soon CMD x'), /time: invalid duration "soon"/);
    assert.match(parseError('FROM a\nHEALTHCHECK CMD'), /Missing command after HEALTHCHECK CMD/);
  });

  it('ONBUILD records the trigger text and refuses FROM, MAINTAINER and ONBUILD triggers', () => {
    assert.equal((one('ONBUILD RUN echo hi') as { expression: string }).expression, 'RUN echo hi');
    assert.match(parseError('FROM a\nONBUILD FROM b'), /line 2: FROM isn't allowed as an ONBUILD trigger/);
    assert.match(parseError('FROM a\nONBUILD ONBUILD RUN x'), /Chaining ONBUILD/);
    assert.match(parseError('FROM a\nONBUILD BOGUS x'), /line 2: unknown instruction: BOGUS/);
  });

  it('instructions are case-insensitive; unknown ones name the line in Docker\'s words', () => {
    assert.equal(one('from busybox').kind, 'FROM');
    assert.equal(parseError('FROM busybox\nRUN true\nFOOBAR baz\n'), 'Dockerfile parse error line 3: unknown instruction: FOOBAR');
    // The line of a continued instruction is its first line.
    assert.equal(parseError('FROM busybox\nRUN a \\\n b\nfoobar \\\n x\n'), 'Dockerfile parse error line 4: unknown instruction: FOOBAR');
  });
});

describe('Dockerfile stages', () => {
  it('splits stages, keeps ARGs before FROM as meta args', () => {
    const df = parseDockerfile('ARG BASE=busybox\nFROM $BASE AS build\nRUN a\nFROM build\nCOPY --from=build /x /y\n');
    assert.equal(df.metaArgs.length, 1);
    assert.equal(df.stages.length, 2);
    assert.equal(df.stages[0].name, 'build');
    assert.equal(df.stages[1].commands.length, 1);
  });

  it('errors: empty file, instruction before FROM, duplicate stage names', () => {
    assert.match(parseError(''), /the Dockerfile \(Dockerfile\) cannot be empty/);
    assert.match(parseError('# only a comment\n'), /cannot be empty/);
    assert.equal(parseError('RUN x\nFROM a\n'), 'Dockerfile parse error line 1: no build stage in current context');
    assert.match(parseError('ARG x\n'), /No image was generated/);
    assert.match(parseError('FROM a AS x\nFROM b AS X\n'), /line 2: duplicate stage name "x"/);
  });
});

function pick(o: object, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, (o as Record<string, unknown>)[k]]));
}
