import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { commonGitDir } from '../git/gitDir';
import { git } from '../git/run';

/**
 * What an audit's record (record.ts) depends on in the repository besides the commits themselves,
 * as text for its key; null when no record is to be kept or used:
 * - grafts give commits other parents without changing their IDs (so other changed paths, another
 *   mainline): with a grafts file, every commit is judged each time (replace refs never apply: main.ts
 *   sets GIT_NO_REPLACE_OBJECTS for every git we run);
 * - stored attestations (refs/attestations/*) are the approvals that policy changes count: their
 *   refs are part of the key, so a new or removed approval judges the range again.
 */
export async function recordableState(cwd?: string): Promise<string | null> {
  if (process.env.GIT_GRAFT_FILE !== undefined) return null;
  const gitDir = await commonGitDir(cwd);
  if (gitDir === null || lstatSync(join(gitDir, 'info', 'grafts'), { throwIfNoEntry: false })) return null;
  return (await git(['for-each-ref', '--format=%(objectname) %(refname)', 'refs/attestations/'], { cwd })).toString('utf8');
}
