import type { YankState } from '../repository/packages-repository';
import { YankChecks } from './yank-checks';

/** A query that records the ids of each call and answers when released. */
function stubRead(states: Record<string, YankState>) {
  const queries: string[][] = [];
  const releases: (() => void)[] = [];
  const read = (ids: string[]) => {
    queries.push([...ids].sort());
    return new Promise<Map<string, YankState>>((resolve) => {
      // The states as of when the query is answered, as a database would.
      releases.push(() => resolve(new Map(ids.filter((id) => states[id]).map((id) => [id, { ...states[id]! }]))));
    });
  };
  return { read, queries, releases };
}

describe('YankChecks', () => {
  it('answers the checks of one turn with one query, each with its own package, undefined for one not registered', async () => {
    const stub = stubRead({ a: { yanked: false, yankReason: null }, b: { yanked: true, yankReason: 'broken' } });
    const checks = new YankChecks(stub.read);
    const answers = Promise.all([checks.state('a'), checks.state('b'), checks.state('a'), checks.state('missing')]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stub.queries).toEqual([['a', 'b', 'missing']]);
    stub.releases[0]!();
    expect(await answers).toEqual([{ yanked: false, yankReason: null }, { yanked: true, yankReason: 'broken' }, { yanked: false, yankReason: null }, undefined]);
  });

  it('sends a check asked for after a query was sent in a later query, which sees what changed meanwhile', async () => {
    const states: Record<string, YankState> = { a: { yanked: false, yankReason: null } };
    const stub = stubRead(states);
    const checks = new YankChecks(stub.read);
    const first = checks.state('a');
    await new Promise((resolve) => setImmediate(resolve));
    expect(stub.queries).toHaveLength(1);
    // A yank commits while the first query is on its way; a check that begins now must see it.
    const second = checks.state('a');
    states.a = { yanked: true, yankReason: 'late' };
    await new Promise((resolve) => setImmediate(resolve));
    expect(stub.queries).toHaveLength(2);
    stub.releases[1]!();
    expect(await second).toEqual({ yanked: true, yankReason: 'late' });
    stub.releases[0]!();
    await first;
  });

  it('fails every check of a query that fails', async () => {
    const checks = new YankChecks(() => Promise.reject(new Error('connection refused')));
    await expect(Promise.all([checks.state('a'), checks.state('b')])).rejects.toThrow('connection refused');
  });
});
