export { Membership, NOT_A_MANAGER_NONE, NOT_A_MANAGER_WORKER, NOT_IN_SWARM, DEFAULT_HEARTBEAT_NS, swarmSpecWithDefaults, type Role, type Agent, type MembershipOptions, type InitRequest, type JoinRequest } from './membership';
export { registerSwarmRoutes } from './routes';
export { loadSwarmState, portsFor, swarmDir, type SwarmState, type SwarmPorts } from './state';
export { parseAddr, resolveAdvertiseAddr, DEFAULT_SWARM_PORT } from './addrs';
