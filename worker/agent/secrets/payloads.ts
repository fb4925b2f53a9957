// The secrets and configs the dispatcher sent this node, in memory only (as swarm's agent keeps
// them): the full set with each new session, then changes. They are written to disk only on a
// task's tmpfs, when its container is made.
import type { AssignedObject } from '../session/executor';
import type { PayloadObject, PayloadSource } from './plan';

export class AssignedPayloads implements PayloadSource {
  private readonly secrets = new Map<string, PayloadObject>();
  private readonly configs = new Map<string, PayloadObject>();

  /** The complete set. */
  setAll(secrets: readonly AssignedObject[], configs: readonly AssignedObject[]): void {
    this.secrets.clear();
    this.configs.clear();
    this.apply({ secrets, configs }, { secrets: [], configs: [] });
  }

  apply(updated: { secrets: readonly AssignedObject[]; configs: readonly AssignedObject[] }, removed: { secrets: readonly string[]; configs: readonly string[] }): void {
    for (const s of updated.secrets) this.secrets.set(s.ID, s as PayloadObject);
    for (const c of updated.configs) this.configs.set(c.ID, c as PayloadObject);
    for (const id of removed.secrets) this.secrets.delete(id);
    for (const id of removed.configs) this.configs.delete(id);
  }

  secret(id: string): PayloadObject | undefined {
    return this.secrets.get(id);
  }

  config(id: string): PayloadObject | undefined {
    return this.configs.get(id);
  }
}
