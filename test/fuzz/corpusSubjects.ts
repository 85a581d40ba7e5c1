import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS } from '../../src/config/config';
import { verifySettings } from '../../src/verify/settings';
import { readCorpus, signedRows } from '../helpers/corpus';
import { CORPUS } from '../helpers/paths';
import type { ObjectSubject } from './objects';

/**
 * The corpus as fuzzing subjects, verified with the public-good trusted root the corpus carries
 * (corpus/trust/): the 22 objects with an embedded Rekor entry fully offline, with the committer's
 * email as the identity (git's question); the online-mode objects (entry only in the public Rekor)
 * offline with the log ignored, any identity, and the SCT checked where the leaf has one.
 */
export const CORPUS_TRUST = join(CORPUS, 'trust', 'root-signing__targets__trusted_root.json');

export async function loadCorpusSubjects(): Promise<ObjectSubject[]> {
  if (!existsSync(CORPUS_TRUST)) return [];
  const cfg = { ...DEFAULTS, trustedRoot: CORPUS_TRUST };
  const strict = await verifySettings(cfg, { offline: true, ignoreTlog: false, ignoreSct: false }, {});
  const noTlog = await verifySettings(cfg, { offline: true, ignoreTlog: true, ignoreSct: false }, {});
  const noTlogNoSct = await verifySettings(cfg, { offline: true, ignoreTlog: true, ignoreSct: true }, {});
  const anyone = { kind: 'policy' as const, policy: { identityRegexp: '.*', issuerRegexp: '.*' } };
  return signedRows().map((r): ObjectSubject => {
    const type = r.kind as 'commit' | 'tag';
    const raw = readCorpus(r.file);
    if (r.tlog_log_index !== '-') return { kind: 'corpus-embedded', name: r.file, type, raw, settings: strict, identity: { kind: 'committer-pending' } };
    // Leaves issued by the root in spring 2022 carry no SCT.
    const settings = r.chain === 'public-good-ca1.1' ? noTlogNoSct : noTlog;
    return { kind: 'corpus-online', name: r.file, type, raw, settings, identity: anyone };
  });
}
