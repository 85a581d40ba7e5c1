import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { INTOTO_PAYLOAD_TYPE, parseEnvelope, signEnvelope } from '../attest/dsse';
import { type ObjectKind, parsePredicate, statementPayload } from '../attest/statement';
import { checkAttestationName, globalAuthor, storeAttestation } from '../attest/store';
import { logEnvelope } from '../attest/tlog';
import { loadConfig } from '../config/config';
import { cannotRead, GitsignError } from '../errors';
import { runGit } from '../git/run';
import { obtainCredential } from '../sign/credential';
import { loadTrust, trustOptionsFromConfig } from '../trust/trustMaterial';
import { verifyChain } from '../verify/chain';
import { printOut, teeStderrTo } from './io';
import { ask, say } from './tty';

/**
 * `gitsign attest [--objtype commit|tree] -f FILE [--type URI]`: signs an in-toto statement about HEAD
 * (or its tree) with the same identity as commit signing, logs it in Rekor, and stores the file and
 * its envelope on refs/attestations/*. Prints gitsign's "LogEntry ID <log ID> <index>" line (the log's
 * ID, the same for every entry), the entry's own UUID and index, and the new attestation commit.
 * Everything that can refuse the attestation is checked before the login.
 */
export interface AttestArgs {
  objtype: ObjectKind;
  filepath?: string;
  type?: string;
}

async function head(kind: ObjectKind): Promise<string> {
  const r = await runGit(['rev-parse', '-q', '--verify', kind === 'tree' ? 'HEAD^{tree}' : 'HEAD^{commit}']);
  if (r.code !== 0) throw new GitsignError('GIT', `error getting repository head: ${r.stderr.trim() || 'HEAD names no commit (no commits yet, or not in a git repository)'}`);
  return r.stdout.toString('latin1').trim();
}

function readPredicateFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw cannotRead('USAGE', '', path, err);
  }
}

export async function attestCommand(args: AttestArgs): Promise<number> {
  if (!args.filepath) throw new GitsignError('USAGE', 'attest needs the attestation file: -f/--filepath FILE');
  const cfg = loadConfig();
  teeStderrTo(cfg.logPath);
  const kind = args.objtype;
  const sha = await head(kind);
  const name = basename(args.filepath);
  checkAttestationName(name);
  const file = readPredicateFile(args.filepath);
  const payload = statementPayload(parsePredicate(file, args.filepath), args.type ?? '', kind, sha);
  const author = await globalAuthor({});

  const trust = (await loadTrust(trustOptionsFromConfig(cfg, { offline: false }))).material;
  const credential = await obtainCredential(cfg, trust, { say, ask });
  const envelope = parseEnvelope(signEnvelope(INTOTO_PAYLOAD_TYPE, payload, credential.privateKey));
  const logged = await logEnvelope(cfg.rekor.replace(/\/+$/, ''), envelope, credential.certificate, trust);
  // The certificate must have been valid when the log saw the entry (verifiers check the chain then).
  verifyChain(credential.certificate, logged.integratedTime, trust);
  printOut(
    `LogEntry ID ${Buffer.from(logged.entry.logId.keyId).toString('hex')} ${logged.entry.logIndex}`,
    `tlog entry ${logged.uuid} at log index ${logged.entry.logIndex} (${logged.kind}/0.0.1)`,
  );

  const commit = await storeAttestation({ kind, sha, name, file, envelope: envelope.raw, author, now: new Date() });
  printOut(commit);
  return 0;
}
