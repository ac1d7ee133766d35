import { ShoalError } from '../../../shared/errors.ts';

/**
 * A commit of a name's version that is not above the version the metadata holds for that name:
 * another gateway (with its own clock) committed a later one first. Versions of a name grow in
 * commit order across gateways, so that recovery, which keeps the highest, keeps the last commit.
 */
export class StaleVersionError extends ShoalError {
  /** The version the metadata holds for the name: the next try goes above it. */
  readonly stored: number;

  constructor(name: string, version: number, stored: number) {
    super('CONFLICT', `version ${version} of ${JSON.stringify(name)} is not above the version ${stored} committed meanwhile`);
    this.stored = stored;
  }
}

/** Throws StaleVersionError unless `version` (a new manifest's) is above `stored` (the name's, 0 when none). */
export function assertAboveStored(name: string, version: number | undefined, stored: number): void {
  if (version !== undefined && version <= stored) throw new StaleVersionError(name, version, stored);
}
