/**
 * Jest global teardown: prints why suites were skipped (recorded by
 * tools.ts in the skip log), then stops the private PostgreSQL server of the
 * global setup, if it started one, and removes its folder.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { TEST_RUN_KEY, type TestRun } from './global-setup';

/** One skipped suite, as tools.ts records it. */
export interface SkipEntry {
  file?: string;
  suite: string;
  reasons: string[];
}

/** The skipped suites recorded in a skip log. */
export function readSkipLog(file: string): SkipEntry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as SkipEntry);
}

/** The summary lines of skipped suites: none when nothing was skipped. */
export function formatSkips(entries: SkipEntry[]): string[] {
  if (entries.length === 0) return [];
  return [
    `Skipped ${entries.length} suite${entries.length === 1 ? '' : 's'}, and why:`,
    ...entries.map((e) => `  ${e.file ?? '?'} "${e.suite}": ${e.reasons.join('; ')}`),
  ];
}

/** The Jest global teardown. */
export default async function globalTeardown(): Promise<void> {
  const run = (globalThis as Record<string, unknown>)[TEST_RUN_KEY] as TestRun | undefined;
  const log = process.env.GRIOT_TEST_SKIP_LOG;
  if (log) {
    const lines = formatSkips(readSkipLog(log));
    if (lines.length > 0) process.stderr.write(`\n${lines.join('\n')}\n`);
  }
  if (run?.ownSkipLog) rmSync(dirname(run.ownSkipLog), { recursive: true, force: true });
  await run?.close();
}
