/**
 * The CLI's version: put in the bundle at build time (scripts/bundle.mjs defines
 * GRIOT_CLI_VERSION), else read from the package.json beside the sources.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

declare const GRIOT_CLI_VERSION: string | undefined;

/** The version of @griot/cli, such as `0.1.0`. */
export function cliVersion(): string {
  if (typeof GRIOT_CLI_VERSION === 'string') return GRIOT_CLI_VERSION;
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
