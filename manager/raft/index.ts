export { RaftHealth, type RaftHealthOptions, type PeerTls } from './health';
export { RaftJoinService, peerUrlOf, type RaftJoinOptions, type ManagerAddrs } from './join';
export { RaftReconciler, planRaft, type RaftAction, type RaftPlan } from './reconcile';
export { quorumOf, hasQuorum, voters, reachableVoters, removalRefusal, noLeaderMessage, quorumLost, type MemberHealth, type RaftView } from './quorum';
export { managerPeersOf, type ManagerEndpoints } from './peers';
