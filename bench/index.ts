/**
 * `pnpm bench`: every benchmark, side by side in one run, printed as one
 * table with ratios. `pnpm bench content` or `pnpm bench registry` runs one.
 */
import { formatTable, type BenchRow } from './report';

async function main(): Promise<void> {
  const only = process.argv[2];
  const rows: BenchRow[] = [];
  if (!only || only === 'content') {
    const { benchContentStore } = await import('./content-store');
    rows.push(...(await benchContentStore()));
  }
  if (!only || only === 'registry') {
    const { benchRegistry } = await import('./registry');
    rows.push(...(await benchRegistry()));
  }
  if (!only || only === 'install') rows.push(...(await (await import('./install')).benchInstall()));
  process.stdout.write(`\n${formatTable(rows)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
