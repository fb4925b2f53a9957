// How a plain container (not a task) gets onto a swarm network: the cluster records the
// attachment and chooses the address (the manager's allocator owns every address on a swarm
// network), then the node joins the network and plumbs the endpoint with that address. The
// agent provides the attacher while the node is in a swarm; without it, swarm networks are
// for tasks only.
import type { EndpointSettings } from '../engine/contracts';
import type { SwarmNetworkDef } from './manager';

/** An address the cluster gave a container on a swarm network, held until detached. */
export interface SwarmLease {
  /** The cluster's network attachment (a task of no service). */
  attachmentId: string;
  network: SwarmNetworkDef;
  /** CIDR form, as the allocator writes it. */
  address: string;
}

export interface SwarmAttacher {
  /** NOT_FOUND for a network the cluster lacks, PERMISSION_DENIED for one not attachable. */
  attach(ref: string, containerId: string, aliases: string[], signal?: AbortSignal): Promise<SwarmLease>;
  /** Best effort is not enough here: throws when the cluster could not be told (the caller logs; the agent retries). */
  detach(attachmentId: string): Promise<void>;
}

/**
 * Marks a task container's endpoint (worker/agent/tasks/networking.ts): its address on a swarm
 * network came with its task, so it is not attached again. Docker's label for a task's ID.
 */
export const TASK_ENDPOINT_OPT = 'com.docker.swarm.task.id';

export function isTaskEndpoint(ep: EndpointSettings | undefined | null): boolean {
  return !!(ep as { DriverOpts?: Record<string, string> } | undefined)?.DriverOpts?.[TASK_ENDPOINT_OPT];
}
