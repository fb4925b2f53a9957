import assert from 'node:assert/strict';
import { frame, StreamType } from '../../../shared/api/stdcopy';
import { LineSplitter, LogPrinter, logPrefix, composePsRow } from '../../../cli/compose';

describe('compose-cli: logs and ps output', () => {
  it('prefixes lines with the padded container name, as docker compose', () => {
    assert.equal(logPrefix('web-1', 6), 'web-1  | ');
    let out = '';
    const p = new LogPrinter({ write: (s: string) => (out += s) }, ['web-1', 'database-1'], { prefix: true, color: false });
    p.line('web-1', 'hello');
    p.line('database-1', 'ready');
    p.event('web-1 exited with code 0');
    assert.equal(out, 'web-1       | hello\ndatabase-1  | ready\nweb-1 exited with code 0\n');
    out = '';
    new LogPrinter({ write: (s: string) => (out += s) }, ['a-1'], { prefix: false, color: false }).line('a-1', 'x');
    assert.equal(out, 'x\n');
  });

  it('splits multiplexed frames into lines, keeping partial lines until they end', () => {
    const s = new LineSplitter(false);
    const chunk = Buffer.concat([frame(StreamType.Stdout, Buffer.from('one\ntw')), frame(StreamType.Stderr, Buffer.from('err\n'))]);
    assert.deepEqual(s.push(chunk.subarray(0, 5)), []);
    assert.deepEqual(s.push(chunk.subarray(5)), [['stdout', 'one'], ['stderr', 'err']]);
    assert.deepEqual(s.push(frame(StreamType.Stdout, Buffer.from('o\r\nthree'))), [['stdout', 'two']]);
    assert.deepEqual(s.flush(), [['stdout', 'three']]);
    assert.deepEqual(new LineSplitter(true).push(Buffer.from('raw\nline\n')), [['stdout', 'raw'], ['stdout', 'line']]);
  });

  it('gives ps rows compose\'s fields', () => {
    const row = composePsRow(
      {
        Id: 'a'.repeat(64),
        Names: ['/shop-web-1'],
        Image: 'busybox:latest',
        Command: 'httpd -f -p 80 -h /var/www',
        Created: 1000,
        State: 'running',
        Status: 'Up 3 seconds (healthy)',
        Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }],
        Labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' },
      },
      1000_000 + 5000,
    );
    assert.deepEqual(
      [row.Name, row.Service, row.Project, row.Command, row.RunningFor, row.Status, row.Ports, row.Health, row.ExitCode],
      ['shop-web-1', 'web', 'shop', '"httpd -f -p 80 -h /…"', '5 seconds ago', 'Up 3 seconds (healthy)', '0.0.0.0:8080->80/tcp', 'healthy', 0],
    );
    assert.equal(composePsRow({ Id: 'b', Status: 'Exited (3) 1 minute ago' }).ExitCode, 3);
  });
});
