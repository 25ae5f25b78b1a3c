// Bundles the griot command into one file, dist/griot.js, that runs on Node.js 20+
// with no dependency: every workspace package and npm dependency is inside it,
// only node:* builtins stay outside.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

await build({
  entryPoints: [join(root, 'src', 'main.ts')],
  outfile: join(root, 'dist', 'griot.js'),
  bundle: true,
  platform: 'node',
  // The workspace packages' TypeScript sources, built or not.
  conditions: ['griot-source'],
  target: 'node20',
  format: 'cjs',
  banner: { js: '#!/usr/bin/env node' },
  define: { GRIOT_CLI_VERSION: JSON.stringify(version) },
  sourcemap: false,
  minify: false,
  legalComments: 'none',
  logLevel: 'warning',
});
