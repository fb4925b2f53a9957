export { compileEtcdConfig, etcdArgs, DEFAULT_MAX_TXN_OPS, DEFAULT_MAX_REQUEST_BYTES, type EtcdMemberOptions, type EtcdMemberConfig, type EtcdTlsFiles } from './config';
export { EtcdMember, ETCD_BINARY, type EtcdMemberRunOptions, type EtcdStatus } from './member';
export { createEtcdClient, deadline, DEFAULT_CALL_TIMEOUT_MS, type EtcdClientOptions, type EtcdClientTls } from './client';
export { addMember, removeMember, promoteMember, listMembers, type EtcdMemberInfo, type AddedMember, type MembershipOptions } from './cluster';
export { translateEtcdError, isCompacted } from './errors';
