// Dispatcher (proto/dispatcher.proto): message types, a typed client, and how a server
// registers an implementation. Swarm objects are Docker Engine API JSON in string fields.
import { RpcClient, type StreamCallOptions, type UnaryCallOptions } from './client';
import { methodDefinition, type RpcServer, type StreamHandler, type UnaryHandler } from './server';

export interface SessionRequest {
  /** NodeDescription JSON. */
  description: string;
  /** The previous session's ID when reconnecting; may be empty. */
  sessionId: string;
}

export interface WeightedPeer {
  nodeId: string;
  /** host:port of the manager's gRPC listener. */
  addr: string;
  weight: number;
}

export interface SessionMessage {
  sessionId: string;
  managers: WeightedPeer[];
  /** The Node object JSON; its Spec is the node's configuration. */
  node: string;
  heartbeatPeriodMs: number;
  /** The cluster's bus (NATS) and its token. */
  busUrls?: string[];
  busToken?: string;
}

export interface HeartbeatRequest {
  sessionId: string;
}

export interface HeartbeatResponse {
  periodMs: number;
}

export interface AssignmentsRequest {
  sessionId: string;
}

export type AssignmentKind = 'task' | 'network' | 'secret' | 'config';

/** One change: `action` and exactly one of task/network/secret/config (the object's JSON). */
export interface AssignmentChange {
  action: 'UPDATE' | 'REMOVE';
  task?: string;
  network?: string;
  secret?: string;
  config?: string;
  /** Which of the four is set (filled in on receipt). */
  item?: AssignmentKind;
}

export interface AssignmentsMessage {
  type: 'COMPLETE' | 'INCREMENTAL';
  /** results_in of the message this one builds on; empty for COMPLETE. */
  appliesTo: string;
  resultsIn: string;
  changes: AssignmentChange[];
}

export interface TaskStatusUpdate {
  taskId: string;
  /** TaskStatus JSON. */
  status: string;
}

export interface UpdateTaskStatusRequest {
  sessionId: string;
  updates: TaskStatusUpdate[];
}

export type UpdateTaskStatusResponse = Record<string, never>;

export interface AttachNetworkRequest {
  sessionId: string;
  /** The network's ID, name or unique ID prefix. */
  network: string;
  containerId: string;
  /** Names the container answers to on the network, its own name first. */
  aliases: string[];
}

export interface AttachNetworkResponse {
  /** The network attachment task's ID. */
  attachmentId: string;
}

export interface DetachNetworkRequest {
  sessionId: string;
  attachmentId: string;
}

export type DetachNetworkResponse = Record<string, never>;

/** Every method is called only with a verified peer (ctx.peer is the calling node). */
export interface DispatcherHandlers {
  session: StreamHandler<SessionRequest, SessionMessage>;
  heartbeat: UnaryHandler<HeartbeatRequest, HeartbeatResponse>;
  assignments: StreamHandler<AssignmentsRequest, AssignmentsMessage>;
  updateTaskStatus: UnaryHandler<UpdateTaskStatusRequest, UpdateTaskStatusResponse>;
  attachNetwork: UnaryHandler<AttachNetworkRequest, AttachNetworkResponse>;
  detachNetwork: UnaryHandler<DetachNetworkRequest, DetachNetworkResponse>;
}

export function addDispatcherService(server: RpcServer, impl: DispatcherHandlers): void {
  server.addService('dispatcher', impl, { peerRequired: 'all' });
}

const md = {
  session: methodDefinition<SessionRequest, SessionMessage>('dispatcher', 'Session'),
  heartbeat: methodDefinition<HeartbeatRequest, HeartbeatResponse>('dispatcher', 'Heartbeat'),
  assignments: methodDefinition<AssignmentsRequest, AssignmentsMessage>('dispatcher', 'Assignments'),
  updateTaskStatus: methodDefinition<UpdateTaskStatusRequest, UpdateTaskStatusResponse>('dispatcher', 'UpdateTaskStatus'),
  attachNetwork: methodDefinition<AttachNetworkRequest, AttachNetworkResponse>('dispatcher', 'AttachNetwork'),
  detachNetwork: methodDefinition<DetachNetworkRequest, DetachNetworkResponse>('dispatcher', 'DetachNetwork'),
};

export class DispatcherClient {
  constructor(private readonly rpc: RpcClient) {}

  session(req: Partial<SessionRequest>, opts?: StreamCallOptions): AsyncGenerator<SessionMessage, void, undefined> {
    return this.rpc.stream(md.session, { description: '', sessionId: '', ...req }, opts);
  }

  heartbeat(req: HeartbeatRequest, opts?: UnaryCallOptions): Promise<HeartbeatResponse> {
    return this.rpc.unary(md.heartbeat, req, opts);
  }

  assignments(req: AssignmentsRequest, opts?: StreamCallOptions): AsyncGenerator<AssignmentsMessage, void, undefined> {
    return this.rpc.stream(md.assignments, req, opts);
  }

  updateTaskStatus(req: UpdateTaskStatusRequest, opts?: UnaryCallOptions): Promise<UpdateTaskStatusResponse> {
    return this.rpc.unary(md.updateTaskStatus, req, opts);
  }

  attachNetwork(req: AttachNetworkRequest, opts?: UnaryCallOptions): Promise<AttachNetworkResponse> {
    return this.rpc.unary(md.attachNetwork, req, opts);
  }

  detachNetwork(req: DetachNetworkRequest, opts?: UnaryCallOptions): Promise<DetachNetworkResponse> {
    return this.rpc.unary(md.detachNetwork, req, opts);
  }
}
