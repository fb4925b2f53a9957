export { LeaderElection, type ElectionOptions, type Leadership } from './election';
