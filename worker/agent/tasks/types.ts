// What the task executor consumes and produces. The input is the set of Tasks the dispatcher
// assigned to this node; the output is TaskStatus reports. The engine is reached in-process
// through the narrow TaskEngine port, which the daemon's Engine satisfies as it is.
import type { EndpointPortConfig, EndpointSpec, Labels, Task, TaskStatus } from '../../../shared/swarm';
import type { ContainerManager } from '../../engine/containers';
import type { ImageStore } from '../../engine/images';
import type { Distribution } from '../../engine/registry';
import type { EventBus } from '../../../shared/events';
import type { EndpointSettings } from '../../engine/contracts';

/**
 * A Task as the dispatcher sends it. Beyond the Docker API's Task JSON it carries what swarmkit
 * copies onto every task for the agent: the service's name and labels (container name and
 * labels) and the service endpoint (host-mode published ports).
 */
export interface AgentTask extends Task {
  ServiceAnnotations?: { Name?: string; Labels?: Labels };
  /** Ports the allocator gave the task (Ports), else those its service asked for (Spec.Ports). */
  Endpoint?: { Spec?: EndpointSpec; Ports?: EndpointPortConfig[] };
}

/** The node the agent runs on: its ID names global tasks' containers and labels them; the rest feeds service templates. */
export interface NodeRef {
  ID: string;
  Hostname?: string;
  Platform?: { Architecture?: string; OS?: string };
}

/** The part of the engine tasks need; `Engine` (worker/engine/engine.ts) satisfies it. */
export interface TaskEngine {
  containers: Pick<ContainerManager, 'create' | 'start' | 'stop' | 'remove' | 'get' | 'list'>;
  images: Pick<ImageStore, 'resolve'>;
  distribution: Pick<Distribution, 'pull'>;
  events: Pick<EventBus, 'subscribe'>;
}

/**
 * How a task's container joins networks. Today every task is on the default bridge; overlay
 * attachments (Task.NetworksAttachments) will be turned into this by the network driver.
 */
export interface TaskNetworking {
  NetworkMode: string;
  EndpointsConfig: Record<string, EndpointSettings>;
}

/** Resolves a task's networking at prepare time (the seam for overlay attachments). */
export type NetworkAttacher = (task: AgentTask, signal: AbortSignal) => Promise<TaskNetworking>;

/** One status report for the dispatcher. */
export interface TaskStatusReport {
  taskId: string;
  status: TaskStatus;
}
