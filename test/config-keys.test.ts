/** Configuration keys are read as git reads them: a subsection's case matters (gitsign.audit.trustRoot). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../src/config/config';
import { TempRepo } from './helpers/gitRepo';

test('gitsign.Audit.trustRoot is not gitsign.audit.trustRoot; GITSIGN.audit.TRUSTROOT is', () => {
  const repo = new TempRepo();
  try {
    repo.git('config', 'gitsign.Audit.trustRoot', 'v9');
    assert.equal(loadConfig(repo.env, repo.dir, () => undefined).auditTrustRoot, '');
    // git itself agrees: the subsection is another one.
    assert.equal(repo.gitResult(['config', '--get', 'gitsign.audit.trustRoot']).status, 1);
    repo.git('config', 'GITSIGN.audit.TRUSTROOT', 'v1');
    assert.equal(loadConfig(repo.env, repo.dir, () => undefined).auditTrustRoot, 'v1');
  } finally {
    repo.remove();
  }
});
