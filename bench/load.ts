/**
 * `pnpm load` (or `pnpm exec tsx bench/load.ts`): the mixed load of
 * load-harness.ts for LOAD_SECONDS (default 60) seconds, printed as a table;
 * exits non-zero when any call failed.
 */
import { formatLoadReport, runLoad } from './load-harness';

async function main(): Promise<void> {
  const seconds = Number(process.env.LOAD_SECONDS ?? 60);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`LOAD_SECONDS must be a positive number of seconds, not ${process.env.LOAD_SECONDS}`);
  const report = await runLoad({ seconds, log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${formatLoadReport(report)}\n`);
  if (report.errors > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`load failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
