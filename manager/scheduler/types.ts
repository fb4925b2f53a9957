// The scheduler's structural views of swarm objects. Field names and nesting follow the Docker
// Engine API JSON, every field optional and read-only, so full API objects (whatever module
// defines them) fit without conversion. Absent enum fields take swarm's zero values: role
// worker, availability active, node state unknown, task state new.

export type Labels = Readonly<Record<string, string>>;

export interface PlatformView {
  readonly OS?: string;
  readonly Architecture?: string;
}

/** One entry of GenericResources: a count of a kind (SSD=3) or one named unit (GPU=UUID1). */
export interface GenericResourceView {
  readonly NamedResourceSpec?: { readonly Kind?: string; readonly Value?: string };
  readonly DiscreteResourceSpec?: { readonly Kind?: string; readonly Value?: number };
}

export interface ResourcesView {
  readonly NanoCPUs?: number;
  readonly MemoryBytes?: number;
  readonly GenericResources?: readonly GenericResourceView[];
}

export interface NodeView {
  readonly ID: string;
  readonly Spec?: {
    readonly Role?: string;
    readonly Availability?: string;
    readonly Labels?: Labels;
  };
  readonly Description?: {
    readonly Hostname?: string;
    readonly Platform?: PlatformView;
    readonly Resources?: ResourcesView;
    readonly Engine?: { readonly Labels?: Labels };
  };
  readonly Status?: { readonly State?: string; readonly Addr?: string };
}

export interface PortView {
  readonly Protocol?: string;
  readonly TargetPort?: number;
  readonly PublishedPort?: number;
  readonly PublishMode?: string;
}

export interface PlacementView {
  readonly Constraints?: readonly string[];
  readonly Preferences?: readonly { readonly Spread?: { readonly SpreadDescriptor?: string } }[];
  readonly MaxReplicas?: number;
  readonly Platforms?: readonly PlatformView[];
}

export interface TaskView {
  readonly ID: string;
  readonly ServiceID?: string;
  readonly Slot?: number;
  readonly NodeID?: string;
  readonly DesiredState?: string;
  readonly Status?: { readonly State?: string };
  readonly Spec?: {
    readonly Placement?: PlacementView;
    readonly Resources?: { readonly Reservations?: ResourcesView };
  };
  /** Ports the allocator gave the task (Ports), else those its service asked for (Spec.Ports). */
  readonly Endpoint?: {
    readonly Spec?: { readonly Ports?: readonly PortView[] };
    readonly Ports?: readonly PortView[];
  };
}

// Task states in lifecycle order; a task never moves backwards through this list.
const TASK_STATES = [
  'new', 'allocated', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running',
  'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned',
] as const;
const RANK = new Map<string, number>(TASK_STATES.map((s, i) => [s, i]));
const ASSIGNED = RANK.get('assigned')!;
const RUNNING = RANK.get('running')!;

/** Rank of a task state in lifecycle order; an unknown state ranks past every known one. */
export function taskStateRank(state: string | undefined): number {
  return RANK.get(state ?? 'new') ?? TASK_STATES.length;
}

/** The task should count towards spread and max-replicas: its desired state is not past running. */
export function desiredActive(task: TaskView): boolean {
  return taskStateRank(task.DesiredState) <= RUNNING;
}

/** The task holds resources and ports on its node: it is on a node and has not finished yet. */
export function holdsNode(task: TaskView): boolean {
  if (!task.NodeID) return false;
  const r = taskStateRank(task.Status?.State);
  return r >= ASSIGNED && r <= RUNNING;
}

/** A host-mode published port as "proto/port", the unit of host port conflicts. */
const NO_PORTS: readonly string[] = [];

export function hostPorts(task: TaskView): readonly string[] {
  const ports = task.Endpoint?.Ports ?? task.Endpoint?.Spec?.Ports;
  if (!ports?.length) return NO_PORTS;
  const out: string[] = [];
  for (const p of ports) {
    // Port 0 means "any free port", chosen on the node: it cannot conflict here.
    if (p.PublishMode === 'host' && p.PublishedPort) out.push(`${(p.Protocol || 'tcp').toLowerCase()}/${p.PublishedPort}`);
  }
  return out;
}

/** CPU, memory and per-kind generic resource counts of a reservation. */
export interface ResourceAmounts {
  nanoCPUs: number;
  memoryBytes: number;
  generic: Map<string, number>;
}

/** Sums a ResourcesView; a named resource counts as one unit of its kind. */
export function resourceAmounts(r: ResourcesView | undefined): ResourceAmounts {
  const generic = new Map<string, number>();
  for (const g of r?.GenericResources ?? []) {
    const d = g.DiscreteResourceSpec;
    const n = g.NamedResourceSpec;
    if (d?.Kind) generic.set(d.Kind, (generic.get(d.Kind) ?? 0) + (d.Value ?? 0));
    else if (n?.Kind) generic.set(n.Kind, (generic.get(n.Kind) ?? 0) + 1);
  }
  return { nanoCPUs: r?.NanoCPUs ?? 0, memoryBytes: r?.MemoryBytes ?? 0, generic };
}
