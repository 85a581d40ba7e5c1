import { readPushCertificate, type PushSigner, verifyPushCertificate } from '../audit/pushCert';
import { judgeUpdate, type RefJudgment } from '../audit/pushJudge';
import { commitOf, configuredRoot, planUpdate } from '../audit/pushPlan';
import { parseRefUpdates, type RefUpdate } from '../audit/pushUpdates';
import { loadConfig } from '../config/config';
import { GitsignError, quoted, toGitsignError } from '../errors';
import { verifySettings, type VerifySettings } from '../verify/settings';
import { openPathCache } from '../audit/pathCache';
import { VERSION } from './version';
import { auditVerifier, type TrustArgs, trustFlags } from './auditVerifier';
import { errorLine, printErr, readAll } from './io';

/**
 * `gitsign hook pre-receive`: the server side of a repository signing policy. receive-pack runs it
 * (install/hooks/pre-receive) with the ref updates on stdin before any ref changes; it refuses the
 * whole push (exit 1) when one update brings a commit or tag the policy refuses, or lacks the signed
 * push certificate the policy's `pushes` section requires. Everything it prints reaches the pusher's
 * terminal (as "remote: ..."), escaped.
 */
export interface HookArgs extends TrustArgs {
  kind: string;
}

/** Ref update lines on stdin: at most this many bytes (receive-pack writes ~130 per ref). */
const MAX_INPUT = 4 * 1024 * 1024;

/** The push certificate's signer, verified once and only when a policy asks for it. */
function certificateOf(updates: RefUpdate[], settings: VerifySettings, env: NodeJS.ProcessEnv): () => Promise<PushSigner | null> {
  let verified: Promise<PushSigner | null> | undefined;
  const check = async (): Promise<PushSigner | null> => {
    const oid = env.GIT_PUSH_CERT ?? '';
    if (oid === '') return null;
    const nonceStatus = env.GIT_PUSH_CERT_NONCE_STATUS ?? '';
    // OK is the only status that proves the certificate was made for this push (SLOP: an old nonce; BAD, MISSING, UNSOLICITED).
    if (nonceStatus !== 'OK') {
      throw new GitsignError('PUSH_CERT', `receive-pack did not accept its nonce (GIT_PUSH_CERT_NONCE_STATUS=${quoted(nonceStatus)}); the server needs receive.certNonceSeed set`);
    }
    const cert = await readPushCertificate(oid);
    if (cert.nonce === null || cert.nonce !== env.GIT_PUSH_CERT_NONCE) throw new GitsignError('PUSH_CERT', 'its nonce is not the one this server issued for the push');
    const signed = new Set(cert.updates.map((u) => `${u.old} ${u.new} ${u.ref}`));
    const unsigned = updates.find((u) => !signed.has(`${u.old} ${u.new} ${u.ref}`));
    if (unsigned) throw new GitsignError('PUSH_CERT', `it does not list the update of ${unsigned.ref}`);
    return verifyPushCertificate(cert, settings);
  };
  return () => (verified ??= check());
}

/** Where OpenPGP certificates may be: the policy's history in every pushed and replaced tip, the trust root and HEAD. */
async function keyringRevisions(updates: readonly RefUpdate[], root: string | null): Promise<string[]> {
  const head = await commitOf('HEAD');
  const revs = [...updates.flatMap((u) => [u.old, u.new]), root, head].filter((r): r is string => r !== null && !/^0+$/.test(r));
  return [...new Set(revs)];
}

function report(j: RefJudgment): string[] {
  if (j.refusals.length === 0) return [`gitsign: ${j.ref}: accepted${j.notes.length ? `: ${j.notes.join('; ')}` : ''}`];
  return [`gitsign: ${j.ref}: refused:`, ...j.refusals.map((r) => errorLine('gitsign:   ', r))];
}

export async function hookCommand(args: HookArgs): Promise<number> {
  try {
    if (args.kind !== 'pre-receive') throw new GitsignError('USAGE', `unknown hook ${quoted(args.kind)}: gitsign hook pre-receive is the one there is`);
    const input = await readAll(process.stdin);
    if (input.length > MAX_INPUT) throw new GitsignError('USAGE', `more than ${MAX_INPUT} bytes of ref updates on standard input`);
    const updates = parseRefUpdates(input.toString('latin1'));
    const cfg = loadConfig();
    const flags = trustFlags(args, cfg);
    const settings = await verifySettings(cfg, flags);
    const root = await configuredRoot(cfg.auditTrustRoot);
    const ctx = {
      verifier: (await auditVerifier(args, cfg, flags, settings, { range: await keyringRevisions(updates, root) })).verifier,
      pathCache: args.cache === false ? undefined : await openPathCache(VERSION),
      approvals: { trust: settings.trust.material, rekorUrl: settings.rekorUrl, ignoreSct: settings.ignoreSct, offline: flags.offline },
      certificate: certificateOf(updates, settings, process.env),
    };
    let refused = 0;
    for (const update of updates) {
      let j: RefJudgment;
      try {
        j = await judgeUpdate(await planUpdate(update, root), ctx);
      } catch (err) {
        j = { ref: update.ref, refusals: [`could not judge the update: ${toGitsignError(err).message}`], notes: [] };
      }
      if (j.refusals.length) refused++;
      printErr(...report(j));
    }
    if (refused === 0) return 0;
    const n = updates.length;
    printErr(`gitsign: push refused: ${refused} of ${n} ref update${n === 1 ? '' : 's'} ${refused === 1 ? 'breaks' : 'break'} the repository's signing policy (gitsign-policy(5)); no ref was changed`);
    return 1;
  } catch (err) {
    const e = toGitsignError(err);
    printErr(errorLine('gitsign: push refused: the signing policy could not be checked: ', e.message));
    return 1;
  }
}
