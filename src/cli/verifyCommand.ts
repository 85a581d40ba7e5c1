import { closeSync, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadConfig } from '../config/config';
import { GitsignError, quoted, toGitsignError } from '../errors';
import { CatFile } from '../git/catFile';
import { revList } from '../git/revisions';
import { verifyGitObject } from '../verify/gitObject';
import { detachedSctText, MAX_DETACHED_SCT_BYTES } from '../verify/detachedSct';
import { type VerifyFlags, verifySettings } from '../verify/settings';
import { type IdentityArgs, identityFromArgs } from './identityArgs';
import { printToned } from './colour';
import { errorLine, printErr } from './io';
import { lightweightTag } from './usage';
import { renderFailure, renderOutcome } from './verifyOutput';
import { ReportQueue } from './reportQueue';
import { tuneForBatch } from './batchTuning';

/**
 * `gitsign verify [REV|A..B ...]` and `gitsign verify-tag TAG...`: many objects in one process, one
 * pipelined cat-file for all; when there are many, several are verified at once, their signature
 * checks on libuv's thread pool. Exit 0 only when every object verified.
 */
export interface VerifyArgs extends IdentityArgs {
  revisions?: string[];
  tags?: string[];
  'insecure-ignore-sct'?: boolean;
  'insecure-ignore-tlog'?: boolean;
  offline?: boolean;
  'trusted-root'?: string;
  json?: boolean;
  /** Print only what failed; the exit status says the rest. */
  quiet?: boolean;
  stdin?: boolean;
  /** Hidden, as in Go: a detached SCT file; the CA bundles are accepted and ignored, as Go does. */
  sct?: string | string[];
  'ca-roots'?: string | string[];
  'ca-intermediates'?: string | string[];
}

/** A flag given more than once counts once, with its last value (as Go's flag parsing does). */
function lastValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** The --sct file's text, read once here (workers get the text); a file larger than any SCT is refused unread. */
function readDetachedSct(path: string): string {
  const buf = Buffer.alloc(MAX_DETACHED_SCT_BYTES + 1);
  let n = 0;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
  } catch (err) {
    throw new GitsignError('USAGE', `cannot read the --sct file ${quoted(path)}: ${(err as NodeJS.ErrnoException).code ?? 'read error'}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return detachedSctText(buf.subarray(0, n));
}

/**
 * cosign's --ca-roots and --ca-intermediates: the Go gitsign accepts them and never reads them (its
 * Fulcio CAs come from its configuration), so they change nothing here either; one note says so.
 */
function noteIgnoredCaFlags(args: VerifyArgs): void {
  for (const flag of ['ca-roots', 'ca-intermediates'] as const) {
    if (lastValue(args[flag])) {
      printErr(`gitsign: --${flag} is ignored, as by gitsign: the Fulcio CAs come from the trusted root (--trusted-root, gitsign.fulcioRoot or GITSIGN_FULCIO_ROOT change them)`);
    }
  }
}

/** Object names to read, in order: ranges expand through rev-list; single revisions are peeled. */
async function* objectNames(kind: 'commit' | 'tag', args: VerifyArgs): AsyncGenerator<string> {
  const revs = (kind === 'commit' ? args.revisions : args.tags) ?? [];
  for (const rev of revs) {
    if (kind === 'tag') yield `refs/tags/${rev}`;
    else if (rev.includes('..')) yield* await revList(rev);
    else yield `${rev}^{commit}`;
  }
  if (args.stdin) {
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      const name = line.trim();
      if (name) yield name;
    }
  } else if (revs.length === 0 && kind === 'commit') {
    yield 'HEAD^{commit}';
  }
}

/** More than one object may be verified: each summary then starts with the object it is about. */
function manyObjects(kind: 'commit' | 'tag', args: VerifyArgs): boolean {
  const revs = (kind === 'commit' ? args.revisions : args.tags) ?? [];
  // A range can expand to any number of commits, so its first summary needs a heading too.
  return Boolean(args.stdin) || revs.length > 1 || (kind === 'commit' && revs.some((r) => r.includes('..')));
}

/**
 * Many objects (stdin, ranges) are verified several at a time: while the ECDSA checks of some run on
 * libuv's thread pool (every core), this thread reads and parses the next ones. Measured on the
 * corpus with 2 cores, this beat worker threads (each isolate compiles the verification code again,
 * and three isolates' compilers and collectors shared the two cores).
 */
function concurrent(kind: 'commit' | 'tag', args: VerifyArgs): boolean {
  const revs = (kind === 'commit' ? args.revisions : args.tags) ?? [];
  return Boolean(args.stdin) || revs.some((r) => r.includes('..'));
}

/**
 * Objects being verified at once, and asked of git ahead: enough to keep the thread pool busy while
 * results are printed in order. Measured on the corpus (2 cores, alternating runs against 64): 16 took
 * 10% longer; 128 was faster in 21 of 35 pairs, by 1-4% in total, with the same peak memory.
 */
const IN_FLIGHT = 128;

export async function verifyCommand(kind: 'commit' | 'tag', args: VerifyArgs): Promise<number> {
  const identity = identityFromArgs(args);
  const cfg = loadConfig();
  const offline = Boolean(args.offline) || cfg.offline;
  noteIgnoredCaFlags(args);
  // An empty --sct is no file, as in Go.
  const sctPath = lastValue(args.sct);
  const flags: VerifyFlags = {
    offline,
    trustedRoot: args['trusted-root'],
    ignoreTlog: Boolean(args['insecure-ignore-tlog']),
    ignoreSct: Boolean(args['insecure-ignore-sct']),
    ...(sctPath ? { detachedSct: readDetachedSct(sctPath) } : {}),
    concurrent: concurrent(kind, args),
  };
  if (flags.concurrent) tuneForBatch();
  // Loaded before any object: a bad trust root is one error up front, not one per object.
  const settings = await verifySettings(cfg, flags);
  const render = { json: Boolean(args.json), heading: manyObjects(kind, args), trustRoot: settings.trust.info };
  const catFile = new CatFile();
  const reports = new ReportQueue(Boolean(args.quiet));
  let count = 0;
  // Results are printed in object order.
  try {
    for await (const { name, object: obj } of catFile.readAll(objectNames(kind, args), IN_FLIGHT)) {
      count++;
      const display = name.replace(/\^\{commit\}$/, '').replace(/^refs\/tags\//, '');
      // Nothing to verify: no such object, or a lightweight tag (it has no signature of its own).
      const error = obj ? (kind === 'tag' && obj.type !== 'tag' ? lightweightTag(display, obj) : null) : new GitsignError('GIT', `${display}: no such ${kind === 'tag' ? 'tag' : 'object'}`);
      if (error) {
        const json = JSON.stringify({ object: display, type: obj?.type ?? null, verified: false, error: { code: error.code, message: error.message } });
        reports.add(Promise.resolve({ ok: false, out: render.json ? [json] : [], err: render.json ? [] : [errorLine('gitsign: ', error.message)] }));
      } else if (obj) {
        reports.add(
          verifyGitObject(obj, settings, identity).then(
            (o) => renderOutcome(obj, o, render),
            (err: unknown) => renderFailure(obj, err, identity, render),
          ),
        );
      }
      await reports.drain(flags.concurrent ? IN_FLIGHT : 0);
    }
    await reports.drain();
  } catch (err) {
    reports.flushAfterError();
    throw toGitsignError(err);
  } finally {
    catFile.close();
  }
  const failures = reports.failures;
  if (count === 0) throw new GitsignError('USAGE', 'no object to verify');
  // Over many objects, one line says how it went (on stderr: stdout holds the reports).
  if (render.heading && !args.quiet && !render.json) printToned(2, [`${count - failures} verified, ${failures} failed`], new Map([[0, failures ? 'bad' : 'good']]));
  return failures === 0 ? 0 : 1;
}
