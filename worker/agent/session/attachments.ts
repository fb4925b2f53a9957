// The agent's side of plain containers on swarm networks (`docker run --network <attachable
// overlay>`). attach() asks the dispatcher for a network attachment, then waits for that task to
// come back in this node's assignments with the address the allocator chose; the network
// manager plumbs the endpoint with it. detach() gives it back. On every complete set, an
// attachment whose container no longer holds it here (the daemon died between the two) is
// detached, so no address stays taken by nothing.
import { errorMessage, unavailable } from '../../../shared/errors';
import { logger } from '../../../shared/log';
import { isNetworkAttachment, type Task, type TaskStatus } from '../../../shared/swarm';
import type { SwarmAttacher, SwarmLease } from '../../network/attach';
import { swarmNetworkDef } from '../tasks/networking';

const log = logger('agent-attachments');

/** The dispatcher calls (on the open session). */
export interface AttachmentCalls {
  attach(req: { network: string; containerId: string; aliases: string[] }, signal?: AbortSignal): Promise<string>;
  detach(attachmentId: string): Promise<void>;
}

/** What the node holds: its plain containers' live attachments (the network manager). */
export interface AttachmentHolder {
  swarmAttachments(): Map<string, { containerId: string; networkId: string }>;
}

export interface NetworkAttachmentsOptions {
  calls: AttachmentCalls;
  holder: AttachmentHolder;
  /** This node's address: the tunnels' source. */
  local: string;
  /** Status reports for the dispatcher. */
  report: (taskId: string, status: TaskStatus) => void;
  /** How long an attachment may take to come back with its address; default 15 s. */
  timeoutMs?: number;
  /** An attachment this young is still being plumbed and is not taken for a leftover; default 60 s. */
  graceMs?: number;
}

export class NetworkAttachments implements SwarmAttacher {
  /** Attachment tasks assigned to this node, by ID. */
  private readonly assigned = new Map<string, Task>();
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Attachments asked for by this process, and when. */
  private readonly issued = new Map<string, number>();

  constructor(private readonly opts: NetworkAttachmentsOptions) {}

  /** Split a task list: network attachments are taken here, the rest returned. */
  static split(tasks: Task[]): { attachments: Task[]; others: Task[] } {
    const attachments: Task[] = [];
    const others: Task[] = [];
    for (const t of tasks) (isNetworkAttachment(t) ? attachments : others).push(t);
    return { attachments, others };
  }

  async attach(ref: string, containerId: string, aliases: string[], signal?: AbortSignal): Promise<SwarmLease> {
    const id = await this.opts.calls.attach({ network: ref, containerId, aliases }, signal);
    this.issued.set(id, Date.now());
    try {
      const task = await this.withAddress(id, signal);
      const a = task.NetworksAttachments![0];
      const lease: SwarmLease = { attachmentId: id, network: swarmNetworkDef(a.Network, this.opts.local), address: a.Addresses![0] };
      this.opts.report(id, { State: 'running', Message: 'started', Timestamp: new Date().toISOString() });
      return lease;
    } catch (e) {
      this.issued.delete(id);
      await this.opts.calls.detach(id).catch((err) => log.warn({ attachment: id, err: errorMessage(err) }, 'cannot withdraw the attachment'));
      throw e;
    }
  }

  async detach(attachmentId: string): Promise<void> {
    await this.opts.calls.detach(attachmentId);
    this.issued.delete(attachmentId);
  }

  /** The complete set's attachment tasks. */
  setAll(tasks: Task[]): void {
    this.assigned.clear();
    for (const t of tasks) this.put(t);
    const held = this.opts.holder.swarmAttachments();
    const grace = this.opts.graceMs ?? 60_000;
    for (const t of tasks) {
      if (held.has(t.ID)) continue;
      const at = this.issued.get(t.ID);
      if (at !== undefined && Date.now() - at < grace) continue;
      log.info({ attachment: t.ID, container: t.Spec.NetworkAttachmentSpec?.ContainerID }, 'no container here holds this network attachment: detaching it');
      void this.detach(t.ID).catch((e) => log.warn({ attachment: t.ID, err: errorMessage(e) }, 'cannot detach a leftover attachment yet'));
    }
  }

  apply(updated: Task[], removed: string[]): void {
    for (const t of updated) this.put(t);
    for (const id of removed) {
      this.assigned.delete(id);
      this.issued.delete(id);
    }
  }

  private put(t: Task): void {
    this.assigned.set(t.ID, t);
    if (!t.NetworksAttachments?.length) return;
    for (const wake of this.waiters.get(t.ID) ?? []) wake();
  }

  /** The attachment task once it carries its address. */
  private async withAddress(id: string, signal?: AbortSignal): Promise<Task> {
    const ms = this.opts.timeoutMs ?? 15_000;
    for (;;) {
      const t = this.assigned.get(id);
      if (t?.NetworksAttachments?.length && t.NetworksAttachments[0].Addresses?.length) return t;
      signal?.throwIfAborted();
      const woken = await new Promise<boolean>((resolve) => {
        const set = this.waiters.get(id) ?? new Set();
        this.waiters.set(id, set);
        const done = (v: boolean) => {
          set.delete(wake);
          if (!set.size) this.waiters.delete(id);
          clearTimeout(timer);
          signal?.removeEventListener('abort', abort);
          resolve(v);
        };
        const wake = () => done(true);
        const abort = () => done(false);
        const timer = setTimeout(() => done(false), ms);
        set.add(wake);
        signal?.addEventListener('abort', abort, { once: true });
      });
      if (!woken) {
        signal?.throwIfAborted();
        throw unavailable(`the cluster gave container no address on the network within ${ms} ms`);
      }
    }
  }
}
