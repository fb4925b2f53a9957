// Builders for scheduler tests: nodes and tasks with only the fields a test cares about set.
import type { NodeView, TaskView } from '../../../manager/scheduler';

export const CPU = 1e9;
export const GiB = 1024 ** 3;

export interface NodeOpts {
  state?: string;
  availability?: string;
  role?: string;
  hostname?: string;
  os?: string;
  arch?: string;
  cpus?: number;
  memory?: number;
  labels?: Record<string, string>;
  engineLabels?: Record<string, string>;
  addr?: string;
  /** Discrete generic resources, kind -> count. */
  generic?: Record<string, number>;
}

/** A ready, active linux/x86_64 worker with 4 CPUs and 8 GiB unless told otherwise. */
export function node(id: string, o: NodeOpts = {}): NodeView {
  return {
    ID: id,
    Spec: { Role: o.role ?? 'worker', Availability: o.availability ?? 'active', Labels: o.labels ?? {} },
    Description: {
      Hostname: o.hostname ?? id,
      Platform: { OS: o.os ?? 'linux', Architecture: o.arch ?? 'x86_64' },
      Resources: {
        NanoCPUs: (o.cpus ?? 4) * CPU,
        MemoryBytes: o.memory ?? 8 * GiB,
        GenericResources: Object.entries(o.generic ?? {}).map(([Kind, Value]) => ({ DiscreteResourceSpec: { Kind, Value } })),
      },
      Engine: { Labels: o.engineLabels ?? {} },
    },
    Status: { State: o.state ?? 'ready', Addr: o.addr ?? '10.0.0.1' },
  };
}

export interface TaskOpts {
  service?: string;
  node?: string;
  state?: string;
  desired?: string;
  cpus?: number;
  memory?: number;
  generic?: Record<string, number>;
  constraints?: string[];
  spread?: string[];
  maxReplicas?: number;
  platforms?: Array<{ OS?: string; Architecture?: string }>;
  /** Host-mode published ports, "80" or "53/udp". */
  hostPorts?: string[];
}

/** A pending task of service "svc" wanting to run, with no placement needs unless told. */
export function task(id: string, o: TaskOpts = {}): TaskView {
  return {
    ID: id,
    ServiceID: o.service ?? 'svc',
    NodeID: o.node,
    DesiredState: o.desired ?? 'running',
    Status: { State: o.state ?? (o.node ? 'running' : 'pending') },
    Spec: {
      Placement: {
        Constraints: o.constraints,
        Preferences: o.spread?.map((SpreadDescriptor) => ({ Spread: { SpreadDescriptor } })),
        MaxReplicas: o.maxReplicas,
        Platforms: o.platforms,
      },
      Resources: {
        Reservations: {
          NanoCPUs: o.cpus ? o.cpus * CPU : undefined,
          MemoryBytes: o.memory,
          GenericResources: o.generic && Object.entries(o.generic).map(([Kind, Value]) => ({ DiscreteResourceSpec: { Kind, Value } })),
        },
      },
    },
    Endpoint: o.hostPorts && {
      Ports: o.hostPorts.map((p) => {
        const [port, proto] = p.split('/');
        return { Protocol: proto ?? 'tcp', TargetPort: 8080, PublishedPort: Number(port), PublishMode: 'host' };
      }),
    },
  };
}

/** `n` tasks named `${prefix}${i}` with the same options. */
export function tasks(n: number, prefix: string, o: TaskOpts = {}): TaskView[] {
  return Array.from({ length: n }, (_, i) => task(`${prefix}${i}`, o));
}

/** Node ID -> number of assignments in a batch result. */
export function perNode(assigned: ReadonlyArray<{ nodeId: string }>): Map<string, number> {
  const m = new Map<string, number>();
  for (const a of assigned) m.set(a.nodeId, (m.get(a.nodeId) ?? 0) + 1);
  return m;
}
