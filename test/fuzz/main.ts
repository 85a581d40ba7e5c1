import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { failureGroups, markdownReport, textReport } from './report';
import { type FuzzResult, runFuzz } from './runner';

/**
 * `npm run fuzz [-- --cases N] [--seed S] [--from K] [--case N[,M...]] [--workers W] [--deadline MS] [--out DIR] [--quiet]
 * [--record DIR]`: the deterministic mutation fuzzer. Exit 0 when every case kept every invariant, 1 otherwise.
 * --record adds one case per distinct failure to DIR/index.json (with its mutant), which test/fuzz.test.ts replays.
 */
function record(dir: string, r: FuzzResult): number {
  mkdirSync(dir, { recursive: true });
  const indexPath = join(dir, 'index.json');
  const index = existsSync(indexPath) ? (JSON.parse(readFileSync(indexPath, 'utf8')) as Record<string, unknown>[]) : [];
  let added = 0;
  for (const g of failureGroups(r.failures)) {
    const e = g.examples[0];
    if (index.some((x) => (x.seed === r.seed && x.case === e.n) || (x.kind === g.kind && x.shape === g.shape))) continue;
    const file = e.file && existsSync(e.file) ? basename(e.file) : undefined;
    if (file) copyFileSync(e.file!, join(dir, file));
    index.push({ seed: r.seed, case: e.n, kind: g.kind, class: e.cls, shape: g.shape, op: e.op, ...(file ? { mutant: file } : {}) });
    added++;
  }
  writeFileSync(indexPath, `${JSON.stringify(index, null, 2)}\n`);
  return added;
}

function args(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument ${argv[i]}`);
    out[m[1]] = m[2] ?? (argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : 'true');
  }
  return out;
}

async function main(): Promise<number> {
  const a = args(process.argv.slice(2));
  const int = (k: string, d: number): number => {
    const v = a[k] === undefined ? d : Number(a[k]);
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`--${k} must be a non-negative integer`);
    return v;
  };
  const seed = int('seed', Math.floor(Date.now() / 1000) % 1_000_000);
  const from = int('from', 0);
  const cases = int('cases', 10_000);
  const only = a.case ? a.case.split(',').map((x) => Number(x)) : undefined;
  const result = await runFuzz({
    seed,
    from,
    to: from + cases,
    only,
    workers: int('workers', 2),
    deadlineMs: int('deadline', 15_000),
    watchdogMs: int('watchdog', 45_000),
    outDir: a.out,
    progress: a.quiet
      ? undefined
      : (done, total) => {
          if (done % 1000 === 0 || done === total) process.stderr.write(`  ${done}/${total}\n`);
        },
  });
  process.stdout.write(`${textReport(result, !a.quiet)}\n\n${markdownReport(result)}\n`);
  writeFileSync(join(result.outDir, 'summary.json'), `${JSON.stringify(result, null, 2)}\n`);
  if (a.record) process.stdout.write(`recorded ${record(a.record, result)} new regression case(s) in ${a.record}\n`);
  process.stdout.write(`\nsummary: ${join(result.outDir, 'summary.json')}\n`);
  return result.failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`fuzz: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(2);
  },
);
