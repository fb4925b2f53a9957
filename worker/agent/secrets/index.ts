// Secrets and configs on a worker: what the dispatcher sent (in memory), which files a task
// gets (plan), and the per-task tmpfs they are written to and bind-mounted from (files).
import { join } from 'node:path';
import type { Logger } from '../../../shared/log';
import type { MountRequest } from '../../engine/contracts';
import type { AgentTask } from '../tasks/types';
import { TaskFileStore } from './files';
import { AssignedPayloads } from './payloads';
import { planTaskFiles } from './plan';

export { planTaskFiles, targetPath, SECRETS_DIR, CONFIGS_DIR, DEFAULT_FILE_MODE, type TaskFile, type PayloadObject, type PayloadSource } from './plan';
export { AssignedPayloads } from './payloads';
export { TaskFileStore, bindsFor, tmpfsSize } from './files';

/** What the task manager and its controllers use (worker/agent/tasks TaskFiles). */
/** Remove every task's secret and config files under the daemon's exec root (for swarm leave, once the task containers are gone). */
export function removeAllTaskFiles(execRoot: string): Promise<void> {
  return new TaskFileStore(join(execRoot, 'secrets')).releaseAll();
}

export class TaskSecrets {
  readonly payloads = new AssignedPayloads();
  readonly store: TaskFileStore;

  /** `execRoot`: the daemon's; the tmpfs directories go in its secrets/ folder. */
  constructor(execRoot: string, log?: Logger) {
    this.store = new TaskFileStore(join(execRoot, 'secrets'), log);
  }

  /** Write the task's files and return the container's binds (none for a task without secrets or configs). */
  prepare(task: AgentTask): Promise<MountRequest[]> {
    return this.store.prepare(task.ID, planTaskFiles(task, this.payloads));
  }

  release(taskId: string): Promise<void> {
    return this.store.release(taskId);
  }

  taskIds(): Promise<string[]> {
    return this.store.taskIds();
  }
}
