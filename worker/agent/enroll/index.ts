// Joining the cluster and keeping the node certificate fresh.
export { enroll, fetchPinnedRootCA, type EnrollOptions, type EnrollResult } from './enroll';
export { renewCertificate, renewLoop, renewalDelayMs, renewalRetryMs, type RenewOptions, type RenewLoopOptions } from './renew';
