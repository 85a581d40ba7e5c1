// Type-checks and compiles everything with tsc (tests run from dist/tsc), then bundles the CLI
// into one minified CommonJS file so git's per-object start-up stays close to bare node.
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
await build({
  entryPoints: { gitsign: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  legalComments: 'external',
  logLevel: 'warning',
  // ESM dependencies (yargs) read import.meta.url, which CommonJS output lacks.
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: 'var __importMetaUrl=require("url").pathToFileURL(__filename).href;' },
});
