// Network attachments: a container that is not a task (`docker run --network <attachable
// overlay>`) joins a swarm network through a task of its own, as swarmkit does. The task has
// no service, is pinned to the container's node, names its network in Spec.Networks and the
// container in Spec.NetworkAttachmentSpec; the allocator gives it its address like any task's.
import type { Network, Task } from './types';

/** Whether the task stands for a plain container's attachment to a network. */
export function isNetworkAttachment(t: Pick<Task, 'Spec'> | undefined): boolean {
  return !!t?.Spec?.NetworkAttachmentSpec;
}

export interface AttachmentRequest {
  id: string;
  nodeId: string;
  network: Network;
  containerId: string;
  /** Names the container answers to on the network, its own name first. */
  aliases: readonly string[];
  now: Date | number;
}

/** A new attachment task: NEW, wanted running, on the asking node. */
export function newAttachmentTask(r: AttachmentRequest): Task {
  const at = new Date(r.now).toISOString();
  return {
    ID: r.id,
    CreatedAt: at,
    UpdatedAt: at,
    ServiceID: '',
    NodeID: r.nodeId,
    Spec: {
      Runtime: 'attachment',
      NetworkAttachmentSpec: { ContainerID: r.containerId },
      Networks: [{ Target: r.network.ID, ...(r.aliases.length ? { Aliases: [...r.aliases] } : {}) }],
    },
    Status: { State: 'new', Timestamp: at, Message: 'created' },
    DesiredState: 'running',
  };
}
