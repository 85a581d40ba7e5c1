import type { Document, LineCounter, Pair, ParsedNode } from 'yaml';

/**
 * A policy file read into plain values that know where they came from. YAML 1.2 (JSON is a subset)
 * through the `yaml` package, with what a policy never needs refused: anchors, aliases, explicit tags,
 * %TAG directives, several documents, keys that are not plain names, a key twice. Bounded: the file's
 * size, how deep values nest and how many there are, so a hostile file costs little and fails with a
 * sentence and a position, never an exception.
 */
export interface Position {
  line: number;
  col: number;
}

export interface PolicyIssue extends Position {
  message: string;
}

export type YValue =
  | { kind: 'map'; at: Position; entries: Map<string, { keyAt: Position; value: YValue }> }
  | { kind: 'seq'; at: Position; items: YValue[] }
  | { kind: 'scalar'; at: Position; value: string | number | boolean | null; quoted: boolean }
  /** A value refused here (an alias, a tag...): already reported, so the schema says nothing more about it. */
  | { kind: 'refused'; at: Position };

export const MAX_POLICY_BYTES = 256 * 1024;
/** The schema nests five levels (principals > name > list > identity > claims); a little room beyond. */
const MAX_DEPTH = 8;
/** Values of every kind in one file (a 256 KiB file of one-character items stays under this). */
const MAX_VALUES = 100_000;

/** The yaml package, loaded when a policy is read (a separate bundle file, as re2js: scripts/build.mjs). */
function yamlLib(): typeof import('yaml') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('yaml') as typeof import('yaml');
}

export class YamlReader {
  readonly issues: PolicyIssue[] = [];
  private values = 0;

  constructor(private readonly lines: LineCounter) {}

  at(offset: number | undefined): Position {
    const { line, col } = this.lines.linePos(offset ?? 0);
    return { line, col };
  }

  issue(at: Position, message: string): void {
    this.issues.push({ ...at, message });
  }

  /** The document's contents as plain values; null (with issues) when nothing usable is there. */
  read(node: ParsedNode | null, depth = 0): YValue | null {
    const y = yamlLib();
    if (node === null) return null;
    const at = this.at(node.range[0]);
    if (++this.values > MAX_VALUES) {
      if (this.values === MAX_VALUES + 1) this.issue(at, `more than ${MAX_VALUES} values: not a policy`);
      return { kind: 'refused', at };
    }
    if (y.isAlias(node)) return this.refuse(at, 'aliases (*name) are not allowed in a policy: write the value out');
    if (node.anchor) return this.refuse(at, 'anchors (&name) are not allowed in a policy');
    if (node.tag) return this.refuse(at, `tags (${node.tag.startsWith('tag:yaml.org,2002:') ? `!!${node.tag.slice(18)}` : node.tag}) are not allowed in a policy`);
    if (depth > MAX_DEPTH) return this.refuse(at, `values nest deeper than ${MAX_DEPTH} levels: not a policy`);
    if (y.isScalar(node)) {
      const v = node.value;
      if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return this.refuse(at, 'not a plain value');
      return { kind: 'scalar', at, value: v, quoted: node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' || node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED' };
    }
    if (y.isSeq(node)) {
      const items: YValue[] = [];
      for (const item of node.items as ParsedNode[]) {
        const v = this.read(item, depth + 1);
        if (v) items.push(v);
      }
      return { kind: 'seq', at, items };
    }
    if (y.isMap(node)) {
      const entries = new Map<string, { keyAt: Position; value: YValue }>();
      for (const pair of node.items as Pair<ParsedNode, ParsedNode | null>[]) {
        const key = pair.key;
        const keyAt = key ? this.at(key.range[0]) : at;
        if (!key || !y.isScalar(key) || typeof key.value !== 'string' || key.anchor || key.tag || y.isAlias(key)) {
          const hint = key && y.isScalar(key) && key.value !== null && typeof key.value !== 'object' ? ` (quote it: "${String(key.value)}")` : '';
          this.issue(keyAt, `a key must be a plain name${hint}`);
          continue;
        }
        const name = key.value;
        // Checked here, not by the yaml package: its check compares every pair of keys.
        if (entries.has(name)) {
          this.issue(keyAt, `duplicate key ${JSON.stringify(name)} (first at line ${entries.get(name)?.keyAt.line})`);
          continue;
        }
        const value = pair.value === null ? { kind: 'scalar' as const, at: keyAt, value: null, quoted: false } : this.read(pair.value, depth + 1);
        if (value) entries.set(name, { keyAt, value });
      }
      return { kind: 'map', at, entries };
    }
    return this.refuse(at, 'not a YAML value a policy can hold');
  }

  private refuse(at: Position, message: string): YValue {
    this.issue(at, message);
    return { kind: 'refused', at };
  }
}

/**
 * Parses the text (already size-checked and decoded) into plain values, with every problem the YAML
 * layer finds as an issue.
 */
export function readYaml(text: string): { value: YValue | null; issues: PolicyIssue[] } {
  const y = yamlLib();
  const lines = new y.LineCounter();
  const reader = new YamlReader(lines);
  let doc: Document.Parsed;
  try {
    doc = y.parseDocument(text, { lineCounter: lines, version: '1.2', uniqueKeys: false, merge: false, prettyErrors: false, strict: true });
  } catch {
    // The parser reports problems as errors; anything it throws is the input's fault all the same.
    reader.issue({ line: 1, col: 1 }, 'the YAML parser cannot read this file');
    return { value: null, issues: reader.issues };
  }
  // An unresolved tag is reported below, where every tag is refused.
  for (const e of [...doc.errors, ...doc.warnings.filter((w) => w.code !== 'TAG_RESOLVE_FAILED')]) {
    const message = e.code === 'MULTIPLE_DOCS' ? 'a policy is one YAML document (no ---)' : e.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
    reader.issue(reader.at(e.pos?.[0]), message.split('\n')[0]);
  }
  if (Object.keys(doc.directives?.tags ?? {}).some((handle) => handle !== '!!')) reader.issue({ line: 1, col: 1 }, '%TAG directives are not allowed in a policy');
  // A %YAML 1.1 directive would switch the schema (yes/no as booleans, sexagesimal numbers).
  if (doc.directives && doc.directives.yaml.version !== '1.2') reader.issue({ line: 1, col: 1 }, `a policy is YAML 1.2, not ${doc.directives.yaml.version}`);
  // Past a syntax error the tree is a guess: only problems above the schema's are worth showing.
  if (doc.errors.length) return { value: null, issues: reader.issues };
  const value = reader.read(doc.contents as ParsedNode | null);
  if (value === null && reader.issues.length === 0) reader.issue({ line: 1, col: 1 }, 'the policy is empty');
  return { value, issues: reader.issues };
}
