import { readFileSync } from 'node:fs';
import { loadConfig } from '../config/config';
import { GitsignError, isBadSignature, toGitsignError } from '../errors';
import { joinSignature, objectSha1, payloadType } from '../git/objectHash';
import { checkPayloadHeaders } from '../git/rawobj';
import { StatusWriter, goodSignatureLines, signerName } from '../git/status';
import { signatureOptions, verifySettings } from '../verify/settings';
import { SignatureFailure, verifyCmsSignature } from '../verify/signature';
import { exitStatusOf } from './exitStatus';
import { errorLine, printErr, readStdin, teeStderrTo } from './io';
import { gitSummaryLines } from './verifyReport';

/**
 * git's verify call: `gitsign --status-fd=1 --verify SIGFILE -` with the payload on stdin. Status
 * lines go to the status fd, the human summary to stderr (git shows it). Unlike gitsign, failures
 * say BADSIG (does not match) or ERRSIG (cannot be checked) so `%G?` is B or E, not just "no GOODSIG".
 */
export async function gitVerify(status: StatusWriter, positionals: string[]): Promise<number> {
  status.emit('NEWSIG');
  let fingerprint = '0000000000000000000000000000000000000000';
  try {
    if (positionals.length < 2) throw new GitsignError('USAGE', 'attached signatures are not supported: git passes SIGFILE and -');
    const signature = readSignatureFile(positionals[0]);
    const payload = positionals[1] === '-' ? await readStdin() : readFileSync(positionals[1]);
    const cfg = loadConfig();
    teeStderrTo(cfg.logPath);
    const settings = await verifySettings(cfg, { offline: cfg.offline, ignoreTlog: false, ignoreSct: false });
    // git passes only the payload: the object's SHA is rebuilt as gitsign does, for the Rekor search.
    const type = payloadType(payload);
    checkPayloadHeaders(type, payload);
    const objectSha = (): string => objectSha1(type, joinSignature(type, payload, signature));
    const result = await verifyCmsSignature(payload, signature, signatureOptions(settings, objectSha, { kind: 'none' }, false));
    fingerprint = result.certificate.fingerprint;
    // gitsign.policy: the signature stays good; the policy says how far its signer is trusted (src/cli/gitTrust.ts).
    const policy = cfg.policy ? await gitTrust().policyTrust(type, objectSha(), payload) : null;
    printErr(...gitSummaryLines(result), ...(policy ? [policy.line] : []));
    for (const line of goodSignatureLines(fingerprint, signerName(result.certificate), policy?.trust)) status.emit(line);
    return 0;
  } catch (err) {
    const e = toGitsignError(err);
    if (err instanceof SignatureFailure && err.certificate) fingerprint = err.certificate.fingerprint;
    if (isBadSignature(e)) {
      status.emit(`BADSIG ${fingerprint} `);
    } else {
      // ERRSIG <keyid> <pkalgo> <hashalgo> <class> <time> <rc> <fpr>: git reads only the key ID.
      status.emit(`ERRSIG ${fingerprint} 19 8 00 ${Math.floor(Date.now() / 1000)} 9 ${fingerprint}`);
    }
    printErr(errorLine('gitsign: ', e.message));
    return exitStatusOf(e);
  }
}

/** The policy's judgment, a separate bundle file loaded only when gitsign.policy is set. require(): see src/cli/main.ts. */
function gitTrust(): typeof import('./gitTrust') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./gitTrust') as typeof import('./gitTrust');
}

function readSignatureFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new GitsignError('USAGE', `cannot read signature file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
