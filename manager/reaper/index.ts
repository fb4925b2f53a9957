export { TaskReaper } from './reaper';
