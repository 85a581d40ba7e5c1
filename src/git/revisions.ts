import { execFile } from 'node:child_process';
import { gitFailure, gitNotRun } from './failure';
import { wholeOutputEnv } from './run';

/** Commits of a range ("A..B", "A...B") in git's order, through `git rev-list`. */
export function revList(range: string, cwd?: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('git', ['rev-list', range, '--'], { cwd, env: wholeOutputEnv(), maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject((err as NodeJS.ErrnoException).code === 'ENOENT' ? gitNotRun(err as NodeJS.ErrnoException) : gitFailure(`git rev-list ${range}`, stderr));
      resolve(stdout.split('\n').filter(Boolean));
    });
  });
}
