/**
 * Fresh yank states for the GetPackage cache, read in batches: the checks
 * asked for in one turn of the event loop share one query, sent once that
 * turn is over, after every one of them was asked for. So each answer
 * reflects every yank and unyank committed, on any replica, before its check
 * began, at the cost of one small query per turn rather than one per call.
 * The queries of successive turns may overlap.
 */
import type { YankState } from '../repository/packages-repository';

/** Reads the yank states of these packages (those not registered left out). */
export type ReadYankStates = (packageIds: string[]) => Promise<Map<string, YankState>>;

/** Batched yank checks; see the module comment. */
export class YankChecks {
  private pending?: { ids: Set<string>; states: Promise<Map<string, YankState>> };

  /** @param read - The query. */
  constructor(private readonly read: ReadYankStates) {}

  /** The package's yank state as of a query sent after this call, or undefined when it is not registered. */
  async state(packageId: string): Promise<YankState | undefined> {
    let pending = this.pending;
    if (!pending) {
      const ids = new Set<string>();
      const states = new Promise<Map<string, YankState>>((resolve, reject) => {
        setImmediate(() => {
          // Checks asked for from here on go to the next query.
          this.pending = undefined;
          this.read([...ids]).then(resolve, reject);
        });
      });
      pending = this.pending = { ids, states };
    }
    pending.ids.add(packageId);
    return (await pending.states).get(packageId);
  }
}
