import assert from 'node:assert/strict';
import { parseTemplate, sprintf, TemplateError } from '../../../cli/format/template';
import { parseFormat, renderRows, withMethods } from '../../../cli/format/formatter';

const run = (t: string, data: unknown) => parseTemplate(t).execute(data);

describe('cli Go template evaluator', () => {
  const data = {
    Id: 'abc',
    Name: '/web',
    State: { Running: true, ExitCode: 0, Pid: 42, Health: null },
    Config: { Labels: { 'com.example.team': 'blue', tier: 'front' }, Env: ['A=1', 'B=2'], Cmd: ['sh', '-c', 'echo hi'] },
    NetworkSettings: { Networks: { bridge: { IPAddress: '10.0.0.2' }, other: { IPAddress: '10.1.0.3' } } },
    Size: 1234567,
    Ratio: 0.5,
    Empty: '',
    List: [],
  };
  const cases: Array<[string, string]> = [
    ['{{.Id}}', 'abc'],
    ['{{.State.Running}} {{.State.Pid}}', 'true 42'],
    ['{{.Missing}}', '<no value>'],
    ['{{.State.Health}}', '<nil>'],
    ['{{.Config.Env}}', '[A=1 B=2]'],
    ['{{.Config.Labels}}', 'map[com.example.team:blue tier:front]'],
    ['{{json .Config.Labels}}', '{"com.example.team":"blue","tier":"front"}'],
    ['{{json .Config.Cmd}}', '["sh","-c","echo hi"]'],
    ['{{json .Missing}}', 'null'],
    ['{{index .Config.Labels "com.example.team"}}', 'blue'],
    ['{{index .Config.Labels "nope"}}', ''],
    ['{{index .Config.Env 1}}', 'B=2'],
    ['{{join .Config.Env ","}}', 'A=1,B=2'],
    ['{{split "a:b:c" ":"}}', '[a b c]'],
    ['{{upper .Name}} {{lower "ABC"}} {{title "hello world"}}', '/WEB abc Hello World'],
    ['{{pad .Id 2 1}}|', '  abc |'],
    ['{{truncate "abcdef" 3}}', 'abc'],
    ['{{len .Config.Env}} {{len .Name}}', '2 4'],
    ['{{.Name | printf "%q"}}', '"/web"'],
    ['{{printf "%s-%d-%5.2f|%-4s|" .Id .State.Pid .Ratio "x"}}', 'abc-42- 0.50|x   |'],
    ['{{println .Id .State.Pid}}', 'abc 42\n'],
    ['{{if .State.Running}}up{{else}}down{{end}}', 'up'],
    ['{{if .Empty}}a{{else if .List}}b{{else if eq .Id "abc"}}c{{else}}d{{end}}', 'c'],
    ['{{if and .State.Running (gt .State.Pid 10)}}big{{end}}', 'big'],
    ['{{if or .Empty .List}}x{{else}}none{{end}}', 'none'],
    ['{{if not .Empty}}empty{{end}}', 'empty'],
    ['{{if ne .Id "x"}}ne{{end}} {{if eq .State.Pid 1 42}}any{{end}}', 'ne any'],
    ['{{with .State}}{{.Pid}}{{end}}{{with .Empty}}no{{else}}else{{end}}', '42else'],
    ['{{range .Config.Env}}[{{.}}]{{end}}', '[A=1][B=2]'],
    ['{{range $i, $e := .Config.Env}}{{$i}}={{$e}};{{end}}', '0=A=1;1=B=2;'],
    ['{{range $k, $v := .NetworkSettings.Networks}}{{$k}}:{{$v.IPAddress}} {{end}}', 'bridge:10.0.0.2 other:10.1.0.3 '],
    ['{{range .List}}x{{else}}nothing{{end}}', 'nothing'],
    ['{{$n := .Name}}{{$n}}{{$n = "z"}}{{$n}}', '/webz'],
    ['{{range .Config.Env}}{{$.Id}}{{end}}', 'abcabc'],
    ['{{(index .NetworkSettings.Networks "bridge").IPAddress}}', '10.0.0.2'],
    ['a {{- " b " -}} c', 'a b c'],
    ['{{/* a comment */}}x', 'x'],
    ['{{.Size}} {{.Ratio}}', '1234567 0.5'],
    ['{{"quoted \\"str\\""}} {{`raw`}} {{1}} {{true}}', 'quoted "str" raw 1 true'],
    ['{{slice .Id 1}} {{slice .Id 0 2}}', 'bc ab'],
    ['{{.}}', 'map[Config:map[Cmd:[sh -c echo hi] Env:[A=1 B=2] Labels:map[com.example.team:blue tier:front]] Empty: Id:abc List:[] Name:/web NetworkSettings:map[Networks:map[bridge:map[IPAddress:10.0.0.2] other:map[IPAddress:10.1.0.3]]] Ratio:0.5 Size:1234567 State:map[ExitCode:0 Health:<nil> Pid:42 Running:true]]'],
  ];
  for (const [t, want] of cases) it(t.replace(/\n/g, '\\n'), () => assert.equal(run(t, data), want));

  it('calls methods with arguments ({{.Label "k"}})', () => {
    const row = withMethods({ ID: 'x' }, { Label: (k: unknown) => (k === 'a' ? 'A' : '') });
    assert.equal(run('{{.ID}}:{{.Label "a"}}', row), 'x:A');
    assert.equal(JSON.stringify(row), '{"ID":"x"}');
  });

  const parseErrors: Array<[string, RegExp]> = [
    ['{{.Id', /unclosed action/],
    ['{{nofunc .Id}}', /function "nofunc" not defined/],
    ['{{if .Id}}x', /unexpected EOF/],
    ['{{end}}', /unexpected \{\{end\}\}/],
    ['{{.Id | }}', /missing value for command/],
    ['{{"abc}}', /unterminated quoted string|unclosed action/],
  ];
  for (const [t, re] of parseErrors) it(`parse error: ${t}`, () => assert.throws(() => parseTemplate(t), (e: unknown) => e instanceof TemplateError && re.test(e.message) && e.message.startsWith('template: ')));

  it('execution errors name the action', () => {
    assert.throws(() => run('{{index .Config.Env 5}}', data), (e: unknown) => e instanceof TemplateError && /executing "" at <index .Config.Env 5>: error calling index: index out of range: 5/.test(e.message));
    assert.throws(() => run('{{lt .Id 3}}', data), /incompatible types for comparison/);
  });

  it('sprintf basics', () => {
    assert.equal(sprintf('%05d|%x|%v|%t|%%', [42, 255, [1, 2], true]), '00042|ff|[1 2]|true|%');
    assert.equal(sprintf('%s', []), '%!s(MISSING)');
  });
});

describe('cli --format handling', () => {
  const rows = [
    { ID: 'aaa', Names: 'first', Labels: 'a=1' },
    { ID: 'bbbbbbbbbbbbbb', Names: 'second', Labels: '' },
  ];
  const headers = { ID: 'CONTAINER ID', Names: 'NAMES', Labels: 'LABELS' };
  it('table format: header from the same template, aligned columns', () => {
    const out = renderRows(parseFormat('table {{.ID}}\\t{{.Names}}', 'table {{.ID}}'), rows, headers);
    assert.equal(out, 'CONTAINER ID     NAMES\naaa              first\nbbbbbbbbbbbbbb   second\n');
  });
  it('default table when --format is empty or "table"', () => {
    assert.deepEqual(parseFormat(undefined, 'table {{.ID}}'), { table: true, template: '{{.ID}}' });
    assert.deepEqual(parseFormat('table', 'table {{.ID}}'), { table: true, template: '{{.ID}}' });
  });
  it('json format is {{json .}} per row', () => {
    assert.equal(renderRows(parseFormat('json', 'table {{.ID}}'), rows.slice(0, 1), headers), '{"ID":"aaa","Names":"first","Labels":"a=1"}\n');
  });
  it('a plain template: no header, no alignment', () => {
    assert.equal(renderRows(parseFormat('{{.ID}}\\t{{.Names}}', 'table'), rows, headers), 'aaa\tfirst\nbbbbbbbbbbbbbb\tsecond\n');
  });
  it('header functions pass header names through', () => {
    assert.equal(renderRows(parseFormat('table {{json .ID}}\\t{{upper .Names}}', 'table'), rows.slice(0, 1), headers), 'CONTAINER ID   NAMES\n"aaa"          FIRST\n');
  });
  it('an empty list still prints the table header', () => {
    assert.equal(renderRows(parseFormat(undefined, 'table {{.ID}}\t{{.Names}}'), [], headers), 'CONTAINER ID   NAMES\n');
  });
});
