/**
 * A bad flag value, reported as docker reports one:
 *   invalid argument "12x" for "-m, --memory" flag: invalid size: '12x'
 */
export class FlagError extends Error {
  constructor(
    readonly flag: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`invalid argument "${value}" for "${flag}" flag: ${reason}`);
    this.name = 'FlagError';
  }
}

/** A bad combination or spec detected while building the request ("invalid hostPort: 99999"). */
export class OptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OptionError';
  }
}
