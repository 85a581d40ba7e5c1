import { ALLOWED } from './judge';
import type { Failure, FuzzResult } from './runner';

/**
 * The run's summary: totals, the distinct failures (grouped by kind and message shape, each with its
 * reproducers), the accepted-mutant classes with their reasons, the counts per mutation class, and a
 * Markdown block for the README's reliability section.
 */
const shape = (why: string): string =>
  why
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\b[0-9a-f]{8,}\b/gi, '#')
    .replace(/\d+/g, '#')
    .slice(0, 110);

export interface FailureGroup {
  kind: string;
  shape: string;
  count: number;
  classes: string[];
  examples: Failure[];
}

export function failureGroups(failures: Failure[]): FailureGroup[] {
  const groups = new Map<string, FailureGroup>();
  for (const f of failures) {
    const key = `${f.kind}|${shape(f.why)}`;
    const g = groups.get(key) ?? { kind: f.kind, shape: shape(f.why), count: 0, classes: [], examples: [] };
    g.count++;
    if (!g.classes.includes(f.cls)) g.classes.push(f.cls);
    if (g.examples.length < 3) g.examples.push(f);
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

function totals(r: FuzzResult): { rejected: number; accepted: number; failures: number; byKind: Record<string, number>; byFamily: Record<string, number>; codes: Record<string, number>; allowed: Record<string, number> } {
  let rejected = 0;
  let accepted = 0;
  const codes: Record<string, number> = {};
  const allowed: Record<string, number> = {};
  const byFamily: Record<string, number> = {};
  for (const [cls, c] of Object.entries(r.classes)) {
    const family = cls.split('/')[0];
    byFamily[family] = (byFamily[family] ?? 0) + c.cases;
    for (const [k, n] of Object.entries(c.rejected)) ((rejected += n), (codes[k] = (codes[k] ?? 0) + n));
    for (const [k, n] of Object.entries(c.accepted)) ((accepted += n), (allowed[k] = (allowed[k] ?? 0) + n));
  }
  const byKind: Record<string, number> = {};
  for (const f of r.failures) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  return { rejected, accepted, failures: r.failures.length, byKind, byFamily, codes, allowed };
}

const list = (o: Record<string, number>): string =>
  Object.entries(o)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

export function textReport(r: FuzzResult, verbose = true): string {
  const t = totals(r);
  const out: string[] = [];
  const secs = r.ms / 1000;
  out.push(`gitsign-ts fuzz: seed ${r.seed}, ${r.cases} cases on ${r.workers} worker thread(s) in ${secs.toFixed(1)} s wall, ${(r.cpuMs / 1000).toFixed(1)} s CPU (${Math.round(r.cases / secs)} cases/s; worker setup ${r.setupMs.map((m) => `${m} ms`).join(', ')})`);
  out.push(`  subjects: ${list(t.byFamily)}`);
  out.push(`  rejected with a stated code: ${t.rejected} (${list(t.codes)})`);
  out.push(`  accepted, non-semantic (allowed classes): ${t.accepted}${t.accepted ? ` (${list(t.allowed)})` : ''}`);
  out.push(`  FAILURES: ${t.failures}${t.failures ? ` (${list(t.byKind)})` : ''}`);
  for (const b of r.baseline) out.push(`  baseline problem: ${b}`);
  if (r.failures.length) {
    out.push('', 'Distinct failures (kind, message shape, count, classes, reproducers):');
    for (const g of failureGroups(r.failures)) {
      out.push(`- [${g.kind}] x${g.count}: ${g.shape}`);
      out.push(`    classes: ${g.classes.slice(0, 6).join(', ')}${g.classes.length > 6 ? `, … (${g.classes.length})` : ''}`);
      for (const e of g.examples) out.push(`    case ${e.n} (${e.subject}; ${e.op})${e.file ? ` -> ${e.file}` : ''}\n      npm run fuzz -- --seed ${r.seed} --case ${e.n}\n      ${e.why.slice(0, 300)}`);
    }
    out.push(`  mutants and details: ${r.outDir}`);
  }
  if (Object.keys(t.allowed).length) {
    out.push('', 'Accepted mutants, by allowed class (why each is not a false accept):');
    for (const [k, n] of Object.entries(t.allowed).sort((a, b) => b[1] - a[1])) {
      out.push(`- ${k} (${n}): ${ALLOWED[k] ?? '(no reason recorded!)'}`);
      if (verbose) for (const e of r.acceptedExamples[k] ?? []) out.push(`    e.g. case ${e.n} ${e.cls}: ${e.op.slice(0, 140)}`);
    }
  }
  if (verbose) {
    out.push('', 'Per mutation class: cases | rejected by code | accepted (allowed class) | failures');
    for (const [cls, c] of Object.entries(r.classes).sort((a, b) => a[0].localeCompare(b[0]))) {
      out.push(`  ${cls}: ${c.cases} | ${list(c.rejected) || '-'} | ${list(c.accepted) || '-'} | ${c.failures}`);
    }
  }
  return out.join('\n');
}

export function markdownReport(r: FuzzResult): string {
  const t = totals(r);
  const fam = (prefix: string): [number, number, number, number] => {
    let cases = 0;
    let rej = 0;
    let acc = 0;
    let fail = 0;
    for (const [cls, c] of Object.entries(r.classes)) {
      if (!cls.startsWith(prefix)) continue;
      cases += c.cases;
      rej += Object.values(c.rejected).reduce((a, b) => a + b, 0);
      acc += Object.values(c.accepted).reduce((a, b) => a + b, 0);
      fail += c.failures;
    }
    return [cases, rej, acc, fail];
  };
  const rows = [
    ['Corpus commits/tags with an embedded Rekor entry', 'corpus-embedded/'],
    ['Corpus online-mode commits/tags', 'corpus-online/'],
    ['Sandbox-signed objects (Rekor v1/v2, TSA, online)', 'sandbox-'],
    ['Conformance bundles', 'bundle'],
    ['Server answers (Fulcio, Rekor v1/v2, TSA, OIDC)', 'server/'],
  ].map(([name, prefix]) => {
    const [c, rej, acc, f] = fam(prefix);
    return `| ${name} | ${c} | ${rej} | ${acc} | ${f} |`;
  });
  return [
    `\`npm run fuzz -- --cases ${r.cases} --seed ${r.seed}\`: ${r.cases} mutants in ${(r.ms / 1000).toFixed(0)} s wall (${(r.cpuMs / 1000).toFixed(0)} s CPU) on ${r.workers} worker threads.`,
    '',
    '| Mutants of | cases | rejected (stated code) | accepted (non-semantic) | failures |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    `| **all** | **${r.cases}** | **${t.rejected}** | **${t.accepted}** | **${t.failures}** |`,
    '',
    `Codes: ${list(t.codes)}.`,
    t.accepted ? `Accepted mutants in allowed (non-semantic) classes: ${list(t.allowed)}.` : 'No mutant was accepted.',
    t.failures ? `Failures: ${list(t.byKind)} (${failureGroups(r.failures).length} distinct).` : 'No failure: no false accept, crash, hang, INTERNAL or runtime message.',
  ].join('\n');
}
