// Builds what the package ships: dist/index.cjs and dist/index.mjs (esbuild; the
// @griot/* workspace packages inside, the npm dependencies outside), and
// dist/index.d.ts, the types in one file that imports no @griot/* package.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { generateDtsBundle } from 'dts-bundle-generator';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { dependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const external = Object.keys(dependencies).flatMap((name) => [name, `${name}/*`]);

const common = {
  entryPoints: [join(root, 'src', 'index.ts')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  // The workspace packages' TypeScript sources, built or not.
  conditions: ['griot-source'],
  external,
  sourcemap: false,
  minify: false,
  legalComments: 'none',
  logLevel: 'warning',
};

await build({ ...common, format: 'cjs', outfile: join(root, 'dist', 'index.cjs') });
await build({
  ...common,
  format: 'esm',
  outfile: join(root, 'dist', 'index.mjs'),
  // CommonJS names some bundled modules use (@griot/proto's __dirname), defined for ES modules.
  banner: {
    js: [
      "import { createRequire as __griotCreateRequire } from 'node:module';",
      "import { fileURLToPath as __griotFileURLToPath } from 'node:url';",
      "import { dirname as __griotDirname } from 'node:path';",
      'const require = __griotCreateRequire(import.meta.url);',
      'const __filename = __griotFileURLToPath(import.meta.url);',
      'const __dirname = __griotDirname(__filename);',
    ].join('\n'),
  },
});

const [types] = generateDtsBundle([{ filePath: join(root, 'src', 'index.ts'), output: { noBanner: true } }], { preferredConfigPath: join(root, 'tsconfig.dts.json') });
if (/from ['"]@griot\//.test(types)) throw new Error('dist/index.d.ts still imports a @griot/* package');
writeFileSync(join(root, 'dist', 'index.d.ts'), types);
