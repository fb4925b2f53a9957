// AttachNetwork and DetachNetwork: a plain container on a node joins or leaves an attachable
// swarm network. The manager only records the wish, as a network attachment task pinned to the
// node (shared/swarm/attachments); the allocator gives it its address and the dispatcher sends
// it to the node with the network and its peers, as for any task.
import { invalid, isShoalError, ShoalError } from '../../shared/errors';
import type { AttachNetworkRequest, DetachNetworkRequest } from '../../shared/rpc';
import { isNetworkAttachment, isTerminal, newAttachmentTask, type Network, type Task } from '../../shared/swarm';
import { newSwarmId } from '../ca/ids';
import { findNetwork } from '../networks';
import type { ClusterStore } from '../store';

const forbidden = (msg: string) => new ShoalError('PERMISSION_DENIED', msg);

/** Why a network cannot take a plain container, or nothing. Pure. */
export function attachRefusal(net: Network): string | undefined {
  if (net.Spec.Ingress) return `network ${net.Spec.Name} is the routing mesh's ingress network; containers cannot be attached to it`;
  if (!net.Spec.Attachable) return `network ${net.Spec.Name} not manually attachable (create it with --attachable)`;
  return undefined;
}

/** The request's fields checked: INVALID_ARGUMENT naming the one that is wrong. Pure. */
export function checkAttachRequest(req: AttachNetworkRequest): void {
  if (typeof req.network !== 'string' || !req.network) throw invalid('network must name a network');
  if (typeof req.containerId !== 'string' || !/^[0-9a-f]{12,64}$/.test(req.containerId)) throw invalid(`container_id ${JSON.stringify(req.containerId)} is not a container ID`);
  for (const a of req.aliases ?? []) if (typeof a !== 'string' || !a || a.length > 255) throw invalid(`alias ${JSON.stringify(a)} is not a name`);
}

/** The live attachment of this container to this network on this node, if one exists (a retried call). */
export function existingAttachment(tasks: Iterable<Task>, nodeId: string, networkId: string, containerId: string): Task | undefined {
  for (const t of tasks) {
    if (t.NodeID !== nodeId || !isNetworkAttachment(t) || isTerminal(t.Status.State)) continue;
    if (t.Spec.NetworkAttachmentSpec?.ContainerID === containerId && t.Spec.Networks?.[0]?.Target === networkId) return t;
  }
  return undefined;
}

export async function attachNetwork(store: ClusterStore, nodeId: string, req: AttachNetworkRequest, tasksOfNode: () => Iterable<Task>, now = Date.now()): Promise<string> {
  checkAttachRequest(req);
  const net = await findNetwork(store, req.network);
  const refusal = attachRefusal(net);
  if (refusal) throw forbidden(refusal);
  const have = existingAttachment(tasksOfNode(), nodeId, net.ID, req.containerId);
  if (have) return have.ID;
  const task = newAttachmentTask({ id: newSwarmId(), nodeId, network: net, containerId: req.containerId, aliases: [...new Set(req.aliases ?? [])], now });
  await store.create<Task>('tasks', task);
  return task.ID;
}

/** The attachment goes (its address with it, through the allocator). Gone already is fine. */
export async function detachNetwork(store: ClusterStore, nodeId: string, req: DetachNetworkRequest): Promise<void> {
  if (typeof req.attachmentId !== 'string' || !req.attachmentId) throw invalid('attachment_id must name an attachment');
  const t = await store.get<Task>('tasks', req.attachmentId);
  if (!t) return;
  if (t.NodeID !== nodeId) throw forbidden(`attachment ${t.ID} belongs to another node`);
  if (!isNetworkAttachment(t)) throw invalid(`task ${t.ID} is not a network attachment`);
  try {
    await store.delete('tasks', t.ID);
  } catch (e) {
    if (!isShoalError(e, 'NOT_FOUND')) throw e;
  }
}
