// Type-checks and compiles everything with tsc (tests run from dist/tsc), then bundles the CLI with
// esbuild into minified CommonJS files. git runs us once per object, so the hot bundle holds only
// what git's calls need; human subcommands (yargs), the TUF client, the Go regexp engine (only
// for identity patterns), openpgp.js (only for audits and policies) and the signing policy of git's
// verify calls and the start of an audit's history read live in their own files,
// loaded on demand.
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { buildPeercred } from './native.mjs';

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
buildPeercred();

/**
 * Imports that resolve to another bundle file next to this one instead of being inlined. Each is run
 * through its V8 code cache by dist/codeCache.js (src/cli/codeCache.ts), which bin/gitsign and the
 * verification workers use for their own bundles too.
 */
const SPLIT = {
  './commands': './commands.js',
  './login': './login.js',
  '@sigstore/tuf': './tuf.js',
  re2js: './re2js.js',
  '@noble/curves/nist': './noble.js',
  yaml: './yaml.js',
  './gitTrust': './gitTrust.js',
  openpgp: './openpgp.js',
  '../audit/prefetch': './auditPrefetch.js',
};
/** Relative imports that are split only from this importer (elsewhere they are ordinary modules). */
const SPLIT_FROM = { './commands': 'src/cli/main.ts', './login': 'src/oidc/token.ts', './gitTrust': 'src/cli/gitVerify.ts', '../audit/prefetch': 'src/cli/main.ts' };
const CODE_CACHE = './codeCache.js';
const split = {
  name: 'split',
  setup(b) {
    b.onResolve({ filter: /^(\.\/commands|\.\/login|\.\/gitTrust|\.\.\/audit\/prefetch|@sigstore\/tuf|re2js|@noble\/curves\/nist|yaml|openpgp)$/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      if (args.kind !== 'require-call') throw new Error(`${args.importer}: load ${args.path} with require() (see src/cli/main.ts)`);
      if (SPLIT_FROM[args.path] && !args.importer.endsWith(SPLIT_FROM[args.path])) return undefined;
      return { path: SPLIT[args.path], namespace: 'split' };
    });
    // The import becomes a call of the cache helper, which loads the file once per thread, as require() would.
    b.onLoad({ filter: /.*/, namespace: 'split' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(CODE_CACHE)}).runCached(require("node:path").join(__dirname, ${JSON.stringify(args.path)})).exports;`,
      loader: 'js',
    }));
    b.onResolve({ filter: /^\.\/codeCache\.js$/ }, (args) => (args.kind === 'entry-point' ? undefined : { path: CODE_CACHE, external: true }));
  },
};

await build({
  entryPoints: {
    gitsign: 'src/cli/main.ts',
    commands: 'src/cli/commands.ts',
    codeCache: 'src/cli/codeCache.ts',
    verifyWorker: 'src/cli/verifyWorker.ts',
    login: 'src/oidc/login.ts',
    gitTrust: 'src/cli/gitTrust.ts',
    auditPrefetch: 'src/audit/prefetch.ts',
    'gitsign-credential-cache': 'src/cache/main.ts',
    tuf: 'node_modules/@sigstore/tuf/dist/index.js',
    re2js: 'node_modules/re2js/build/index.cjs',
    yaml: 'node_modules/yaml/dist/index.js',
    openpgp: 'node_modules/openpgp/dist/node/openpgp.min.cjs',
    noble: 'node_modules/@noble/curves/nist.js',
  },
  outdir: 'dist',
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  legalComments: 'external',
  logLevel: 'warning',
  plugins: [split],
  // ESM dependencies (yargs) read import.meta.url, which CommonJS output lacks. Made when read: most
  // bundle files never do, and computing it cost git's calls a file URL conversion at every start.
  define: { 'import.meta.url': '__importMeta.url' },
  banner: { js: 'var __importMeta={get url(){return require("url").pathToFileURL(__filename).href}};' },
});
