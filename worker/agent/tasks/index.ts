// Task execution on a worker: assigned swarm Tasks become containers on the local engine,
// and their progress becomes TaskStatus reports for the dispatcher.
export { TaskManager, type TaskManagerOptions, type TaskChanges } from './manager';
export { TaskController, type ControllerDeps } from './controller';
export { StatusQueue, type StatusBatch } from './reporter';
export {
  containerConfigFor,
  taskContainerName,
  taskDisplayName,
  taskImage,
  stopGraceSeconds,
  hostModePorts,
  TASK_ID_LABEL,
  STACK_NAMESPACE_LABEL,
  DEFAULT_NETWORKING,
  type TaskContainer,
} from './config';
export { expandTemplate, expandContainerSpec, templateContext, type TemplateContext } from './template';
export { nextStep, observe, exitError, portStatusOf, type Observed, type Step } from './plan';
export type { AgentTask, NodeRef, TaskEngine, TaskNetworking, NetworkAttacher, TaskStatusReport } from './types';
