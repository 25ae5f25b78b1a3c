/**
 * The load harness of bench/load-harness.ts, held for a few seconds: every
 * workload makes progress and no call fails. The 60-second figures come from
 * `pnpm load`.
 */
import { formatLoadReport, runLoad } from '../bench/load-harness';
import { describeIf, postgresKind, tool } from '@griot/test/support/tools';

const SECONDS = Number(process.env.LOAD_TEST_SECONDS ?? 8);

describeIf([tool('h2load'), postgresKind()])('mixed load', () => {
  it(`holds uploads, downloads, registry reads and a reported, watched job for ${SECONDS} s with no error`, async () => {
    const report = await runLoad({ seconds: SECONDS });
    const table = formatLoadReport(report);
    // Thrown whole, so that the error samples at the end of the table are in the failure.
    if (report.errors !== 0) throw new Error(`the load had ${report.errors} errors:\n${table}`);
    expect(report.errors).toBe(0);
    for (const w of report.workloads) expect({ workload: w.name, progressed: w.calls > 0 }).toEqual({ workload: w.name, progressed: true });
    for (const [service, mib] of Object.entries(report.peakRssMiB)) expect({ service, sampled: mib > 0 }).toEqual({ service, sampled: true });
  }, 120_000);
});
