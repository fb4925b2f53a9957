import { ShoalError } from '../errors';

/** Docker's words for a manager whose keys are sealed and whose unlock key was not given yet. */
export const SWARM_LOCKED = 'Swarm is encrypted and needs to be unlocked before it can be used. Please use "docker swarm unlock" to unlock it.';

export const swarmLocked = () => new ShoalError('UNAVAILABLE', SWARM_LOCKED);

/** A key file sealed with another KEK than the one given (a wrong or outdated unlock key). */
export class WrongKeyError extends ShoalError {
  constructor(readonly path: string) {
    super('INVALID_ARGUMENT', `${path} is sealed with another unlock key`);
  }
}
