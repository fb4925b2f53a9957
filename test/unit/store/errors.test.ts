import assert from 'node:assert/strict';
import { GRPCDeadlineExceededError, GRPCUnavailableError, castGrpcError } from 'etcd3';
import { NatsError } from 'nats';
import { isCompacted, translateEtcdError } from '../../../manager/etcd';
import { translateNatsError } from '../../../shared/bus';
import { ShoalError } from '../../../shared/errors';

/** An error as grpc-js hands it to etcd3: a plain Error with a numeric code. */
const grpc = (code: number, message: string) => castGrpcError(Object.assign(new Error(`${code} ${message}`), { code }));

describe('etcd error translation', () => {
  const cases: Array<[string, Error, string, RegExp]> = [
    ['connection refused', new GRPCUnavailableError('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1'), 'UNAVAILABLE', /cluster store is unavailable/],
    ['deadline', new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded'), 'UNAVAILABLE', /unavailable/],
    ['leader change', grpc(14, 'UNAVAILABLE: etcdserver: leader changed'), 'UNAVAILABLE', /unavailable/],
    ['request timed out', grpc(14, 'UNAVAILABLE: etcdserver: request timed out'), 'UNAVAILABLE', /unavailable/],
    ['no leader', grpc(14, 'UNAVAILABLE: etcdserver: no leader'), 'UNAVAILABLE', /unavailable/],
    ['quota', grpc(8, 'RESOURCE_EXHAUSTED: etcdserver: mvcc: database space exceeded'), 'UNAVAILABLE', /full/],
    ['too many ops', grpc(3, 'INVALID_ARGUMENT: etcdserver: too many operations in txn request'), 'INVALID_ARGUMENT', /too many operations/],
    ['too large', grpc(3, 'INVALID_ARGUMENT: etcdserver: request is too large'), 'INVALID_ARGUMENT', /larger than the store accepts/],
    ['compacted', grpc(11, 'OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted'), 'FAILED_PRECONDITION', /compacted/],
    ['permission', grpc(7, 'PERMISSION_DENIED: etcdserver: permission denied'), 'PERMISSION_DENIED', /refused/],
    ['unhealthy', grpc(14, 'UNAVAILABLE: etcdserver: unhealthy cluster'), 'FAILED_PRECONDITION', /not healthy enough/],
    ['member gone', grpc(5, 'NOT_FOUND: etcdserver: member not found'), 'NOT_FOUND', /no such etcd member/],
    ['unknown', new Error('something odd'), 'INTERNAL', /something odd/],
  ];
  for (const [name, err, code, msg] of cases) {
    it(`${name} -> ${code}`, () => {
      const t = translateEtcdError(err, 'read task t1');
      assert.equal(t.code, code);
      assert.match(t.message, /^read task t1: /);
      assert.match(t.message, msg);
      assert.equal(t.cause, err);
    });
  }

  it('passes a ShoalError through unchanged and recognises compaction', () => {
    const e = new ShoalError('CONFLICT', 'x');
    assert.equal(translateEtcdError(e, 'y'), e);
    assert.equal(isCompacted(grpc(11, 'OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted')), true);
    assert.equal(isCompacted(new Error('other')), false);
  });
});

describe('NATS error translation', () => {
  it('maps connection trouble to UNAVAILABLE and authorization to PERMISSION_DENIED', () => {
    assert.equal(translateNatsError(NatsError.errorForCode('CONNECTION_CLOSED'), 'publish').code, 'UNAVAILABLE');
    assert.equal(translateNatsError(NatsError.errorForCode('CONNECTION_REFUSED'), 'connect').code, 'UNAVAILABLE');
    assert.equal(translateNatsError(NatsError.errorForCode('AUTHORIZATION_VIOLATION'), 'connect').code, 'PERMISSION_DENIED');
    assert.equal(translateNatsError(NatsError.errorForCode('BAD_SUBJECT'), 'publish').code, 'INVALID_ARGUMENT');
    assert.equal(translateNatsError(new Error('connect ECONNREFUSED 127.0.0.1:4222'), 'connect').code, 'UNAVAILABLE');
    assert.match(translateNatsError(NatsError.errorForCode('CONNECTION_CLOSED'), 'publish on x').message, /^publish on x: the event bus is unavailable/);
  });
});
