// Autolock: managers' key files sealed with the swarm's unlock key (swarm init/update --autolock).
export { sealUnlockKey, unlockKeyOf, autolockUpdate, type AutolockCluster } from './cluster';
export { resealKeyFiles, resealNodeKey, type ManagerKeyFiles } from './reseal';
export { AutolockFollower, type AutolockFollowerOptions } from './follower';
