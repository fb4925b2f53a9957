import assert from 'node:assert/strict';
import { Metadata, status as Status } from '@grpc/grpc-js';
import { ShoalError, type ErrorCode } from '../../../shared/errors';
import { fromGrpcError, GRPC_STATUS, toGrpcStatus } from '../../../shared/rpc';

describe('ShoalError <-> gRPC status', () => {
  const codes = Object.keys(GRPC_STATUS) as ErrorCode[];

  for (const c of codes) {
    it(`${c} survives the round trip with its message`, () => {
      const back = fromGrpcError(toGrpcStatus(new ShoalError(c, `it was ${c}`)));
      assert.equal(back.code, c);
      assert.equal(back.message, `it was ${c}`);
    });
  }

  it('maps codes onto the gRPC statuses a non-shoal peer understands', () => {
    const table: Array<[ErrorCode, Status]> = [
      ['INVALID_ARGUMENT', Status.INVALID_ARGUMENT], ['NOT_FOUND', Status.NOT_FOUND], ['CONFLICT', Status.ABORTED],
      ['PERMISSION_DENIED', Status.PERMISSION_DENIED], ['UNAVAILABLE', Status.UNAVAILABLE], ['NOT_IMPLEMENTED', Status.UNIMPLEMENTED],
      ['CANCELLED', Status.CANCELLED], ['INTERNAL', Status.INTERNAL],
    ];
    for (const [c, s] of table) assert.equal(toGrpcStatus(new ShoalError(c, 'x')).code, s, c);
  });

  it('hides a non-ShoalError behind INTERNAL without its stack', () => {
    const st = toGrpcStatus(new TypeError('boom'));
    assert.equal(st.code, Status.INTERNAL);
    assert.equal(st.details, 'internal error: boom');
  });

  it('translates statuses without the shoal trailer by code', () => {
    const table: Array<[Status, ErrorCode]> = [
      [Status.DEADLINE_EXCEEDED, 'UNAVAILABLE'], [Status.UNAVAILABLE, 'UNAVAILABLE'], [Status.UNAUTHENTICATED, 'PERMISSION_DENIED'],
      [Status.ABORTED, 'CONFLICT'], [Status.UNKNOWN, 'INTERNAL'], [Status.DATA_LOSS, 'INTERNAL'], [Status.OUT_OF_RANGE, 'INVALID_ARGUMENT'],
    ];
    for (const [s, c] of table) {
      const e = fromGrpcError(Object.assign(new Error('x'), { code: s, details: 'from afar', metadata: new Metadata() }));
      assert.equal(e.code, c, Status[s]);
      assert.equal(e.message, 'from afar');
    }
  });

  it('ignores a trailer naming no known code', () => {
    const md = new Metadata();
    md.set('shoal-error-code', 'BOGUS');
    assert.equal(fromGrpcError({ code: Status.NOT_FOUND, details: 'x', metadata: md }).code, 'NOT_FOUND');
  });

  it('passes a ShoalError through and wraps anything else as INTERNAL', () => {
    const s = new ShoalError('CONFLICT', 'c');
    assert.equal(fromGrpcError(s), s);
    assert.equal(fromGrpcError(new Error('local')).code, 'INTERNAL');
  });
});
