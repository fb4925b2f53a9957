import { randomBytes } from 'node:crypto';

/** A 64-hex-digit random ID, like Docker's container and network IDs. */
export function newId(): string {
  return randomBytes(32).toString('hex');
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

const ADJ = ['brave', 'calm', 'eager', 'fond', 'gentle', 'happy', 'keen', 'lucid', 'merry', 'nimble', 'proud', 'quiet', 'sharp', 'swift', 'tender', 'vivid', 'witty', 'zen'];
const NOUN = ['albatross', 'barracuda', 'cod', 'dolphin', 'eel', 'flounder', 'grouper', 'herring', 'marlin', 'minnow', 'octopus', 'perch', 'salmon', 'shark', 'snapper', 'tuna', 'turbot', 'wrasse'];

/** A docker-style random container name ("swift_marlin"). */
export function randomName(): string {
  const pick = <T>(a: T[]) => a[randomBytes(1)[0] % a.length];
  return `${pick(ADJ)}_${pick(NOUN)}`;
}
