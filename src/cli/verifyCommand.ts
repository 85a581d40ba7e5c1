import { createInterface } from 'node:readline';
import { loadConfig } from '../config/config';
import { GitsignError, toGitsignError } from '../errors';
import { CatFile } from '../git/catFile';
import { revList } from '../git/revisions';
import { identityCheckFrom } from '../verify/identity';
import { describeIdentityCheck, verifyGitObject } from '../verify/gitObject';
import { jsonReport, summaryLines } from '../verify/report';
import { verifySettings } from '../verify/settings';
import { writeErr, writeOut } from './io';

/**
 * `gitsign verify [REV|A..B ...]` and `gitsign verify-tag TAG...`: many objects in one process, one
 * cat-file and one trust root for all. Exit 0 only when every object verified.
 */
export interface VerifyArgs {
  revisions?: string[];
  tags?: string[];
  'certificate-identity'?: string;
  'certificate-identity-regexp'?: string;
  'certificate-oidc-issuer'?: string;
  'certificate-oidc-issuer-regexp'?: string;
  'certificate-github-workflow-trigger'?: string;
  'certificate-github-workflow-sha'?: string;
  'certificate-github-workflow-name'?: string;
  'certificate-github-workflow-repository'?: string;
  'certificate-github-workflow-ref'?: string;
  'insecure-ignore-sct'?: boolean;
  'insecure-ignore-tlog'?: boolean;
  offline?: boolean;
  'trusted-root'?: string;
  json?: boolean;
  stdin?: boolean;
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

export async function verifyCommand(kind: 'commit' | 'tag', args: VerifyArgs): Promise<number> {
  const identity = identityCheckFrom({
    identity: args['certificate-identity'],
    identityRegexp: args['certificate-identity-regexp'],
    issuer: args['certificate-oidc-issuer'],
    issuerRegexp: args['certificate-oidc-issuer-regexp'],
    githubWorkflowTrigger: args['certificate-github-workflow-trigger'],
    githubWorkflowSha: args['certificate-github-workflow-sha'],
    githubWorkflowName: args['certificate-github-workflow-name'],
    githubWorkflowRepository: args['certificate-github-workflow-repository'],
    githubWorkflowRef: args['certificate-github-workflow-ref'],
  });
  const cfg = loadConfig();
  const offline = Boolean(args.offline) || cfg.offline;
  const settings = await verifySettings(cfg, {
    offline,
    trustedRoot: args['trusted-root'],
    ignoreTlog: Boolean(args['insecure-ignore-tlog']),
    ignoreSct: Boolean(args['insecure-ignore-sct']),
  });
  const catFile = new CatFile();
  let failures = 0;
  let count = 0;
  try {
    for await (const { name, object: obj } of catFile.readAll(objectNames(kind, args))) {
      count++;
      const display = name.replace(/\^\{commit\}$/, '').replace(/^refs\/tags\//, '');
      if (!obj) {
        failures++;
        const error = new GitsignError('GIT', `${display}: no such ${kind === 'tag' ? 'tag' : 'object'}`);
        if (args.json) writeOut(`${JSON.stringify({ object: display, type: null, verified: false, error: { code: error.code, message: error.message } })}\n`);
        else writeErr(`Error: ${error.message}\n`);
        continue;
      }
      if (kind === 'tag' && obj.type !== 'tag') {
        obj.type = `${obj.type} (lightweight tag)`;
      }
      const outcome = await verifyGitObject(obj, settings, identity);
      const check = describeIdentityCheck(outcome.identity);
      if (args.json) {
        writeOut(`${JSON.stringify(jsonReport(obj.sha, obj.type, check, outcome))}\n`);
      } else if ('ok' in outcome) {
        const note = outcome.identity.kind === 'committer' ? `identity checked: ${check} (no --certificate-identity given)` : undefined;
        const heading = manyObjects(kind, args) ? `${obj.type} ${obj.sha}\n` : '';
        writeOut(`${heading}${summaryLines(outcome.ok, { validated: true, note }).join('\n')}\n`);
      } else {
        writeErr(`Error: ${obj.type} ${obj.sha}: ${outcome.error.message}\n`);
      }
      if ('error' in outcome) failures++;
    }
  } catch (err) {
    throw toGitsignError(err);
  } finally {
    catFile.close();
  }
  if (count === 0) throw new GitsignError('USAGE', 'no object to verify');
  return failures === 0 ? 0 : 1;
}
