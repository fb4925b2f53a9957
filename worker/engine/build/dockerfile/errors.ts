import { ShoalError } from '../../../../shared/errors';

/** A problem in the Dockerfile itself, reported with Docker's wording and the line it is on. */
export class DockerfileError extends ShoalError {
  constructor(
    readonly line: number,
    readonly detail: string,
  ) {
    super('INVALID_ARGUMENT', `Dockerfile parse error line ${line}: ${detail}`);
  }
}
