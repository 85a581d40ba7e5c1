import { execFile } from 'node:child_process';
import { GitsignError } from '../errors';

/** Commits of a range ("A..B", "A...B") in git's order, through `git rev-list`. */
export function revList(range: string, cwd?: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('git', ['rev-list', range, '--'], { cwd, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new GitsignError('GIT', `git rev-list ${range}: ${stderr.trim() || err.message}`));
      resolve(stdout.split('\n').filter(Boolean));
    });
  });
}
