import assert from 'node:assert/strict';
import { httpStatus } from '../../../shared/errors';
import { Query } from '../../../shared/api';
import { detailsOf, fixedTimestamp, formatLogLine, logOptions, parseSince, queryEscape, type LogLine } from '../../../manager/api';

const q = (s: string) => new Query(new URLSearchParams(s));
const bad = (message: string) => (e: unknown) => httpStatus(e) === 400 && (e as Error).message === message;

describe('service and task log formatting', () => {
  const line: LogLine = {
    stream: 'stdout',
    line: Buffer.from('hello world\n'),
    timestamp: '2024-03-04T05:06:07.123456789Z',
    serviceId: 'svc1',
    taskId: 'task1',
    nodeId: 'node1',
  };

  it('plain: the line as written', () => {
    assert.equal(formatLogLine(line, { details: false, timestamps: false }).toString(), 'hello world\n');
  });

  it('details: sorted, query-escaped context before the line, as the docker CLI parses it', () => {
    assert.equal(
      formatLogLine(line, { details: true, timestamps: false }).toString(),
      'com.docker.swarm.node.id=node1,com.docker.swarm.service.id=svc1,com.docker.swarm.task.id=task1 hello world\n',
    );
  });

  it('timestamps come first, in Go\'s fixed nanosecond form', () => {
    assert.equal(
      formatLogLine({ ...line, timestamp: '2024-03-04T05:06:07.5Z' }, { details: true, timestamps: true }).toString(),
      '2024-03-04T05:06:07.500000000Z com.docker.swarm.node.id=node1,com.docker.swarm.service.id=svc1,com.docker.swarm.task.id=task1 hello world\n',
    );
  });

  it('extra attributes are escaped and sorted in; the swarm context wins over a clash', () => {
    const d = detailsOf({ ...line, attrs: { 'a key': 'x,y=z', 'com.docker.swarm.task.id': 'forged', zeta: "it's" } });
    assert.equal(d, 'a+key=x%2Cy%3Dz,com.docker.swarm.node.id=node1,com.docker.swarm.service.id=svc1,com.docker.swarm.task.id=task1,zeta=it%27s');
  });

  it('Go query escaping', () => {
    assert.equal(queryEscape("a b!*()'~-_."), 'a+b%21%2A%28%29%27~-_.');
  });

  it('fixed timestamps: padding, truncation, zones, dates without fraction', () => {
    assert.equal(fixedTimestamp('2024-01-02T03:04:05Z'), '2024-01-02T03:04:05.000000000Z');
    assert.equal(fixedTimestamp('2024-01-02T03:04:05.1234567891Z'), '2024-01-02T03:04:05.123456789Z');
    assert.equal(fixedTimestamp('2024-01-02T03:04:05.25+02:00'), '2024-01-02T01:04:05.250000000Z');
    assert.equal(fixedTimestamp('1704164645000000007'), '2024-01-02T03:04:05.000000007Z');
  });

  it('request options: streams, tail and since', () => {
    assert.deepEqual(logOptions(q('stdout=1')), { follow: false, stdout: true, stderr: false });
    assert.deepEqual(logOptions(q('stderr=true&follow=1&tail=10&since=1700000000.5')), { follow: true, stdout: false, stderr: true, tail: 10, since: '1700000000.5' });
    assert.equal(logOptions(q('stdout=1&tail=all')).tail, undefined);
    assert.equal(logOptions(q('stdout=1&tail=0')).tail, 0);
    assert.equal(parseSince('12'), 12_000);
    assert.equal(parseSince('1700000000.000000250'), 1_700_000_000_000.00025);
  });

  it('refuses bad parameters with dockerd\'s messages', () => {
    assert.throws(() => logOptions(q('')), bad('Bad parameters: you must choose at least one stream'));
    assert.throws(() => logOptions(q('stdout=1&tail=ten')), bad('tail value must be a positive integer or "all"'));
    assert.throws(() => logOptions(q('stdout=1&tail=-3')), bad('negative tail values not supported'));
    assert.throws(() => logOptions(q('stdout=1&since=yesterday')), bad("could not parse since timestamp: 'yesterday' is not unix seconds (SECONDS[.NANOSECONDS])"));
  });
});
