import { GitsignError } from '../errors';

/**
 * git's own failures as our sentences: the ones a newcomer meets (outside a repository, a repository
 * git refuses to open, no git at all) say what to do; any other quotes git's last line.
 */
export function gitFailure(what: string, stderr: string): GitsignError {
  if (/not a git repository/i.test(stderr)) {
    return new GitsignError('GIT', 'not inside a git repository: cd into one (or point GIT_DIR at its .git directory)');
  }
  const dubious = /detected dubious ownership in repository at '([^'\n]*)'/.exec(stderr);
  if (dubious) {
    return new GitsignError('GIT', `git refuses the repository at ${dubious[1]}: another user owns it (git config --global --add safe.directory '${dubious[1]}' trusts it)`);
  }
  const last = stderr.trim().split('\n').pop()?.trim();
  return new GitsignError('GIT', `${what}${last ? `: ${last}` : ''}`);
}

/** git could not be started at all. */
export function gitNotRun(err: NodeJS.ErrnoException): GitsignError {
  if (err.code === 'ENOENT') return new GitsignError('GIT', 'cannot run git: it is not installed or not on PATH (install git, or add its directory to PATH)');
  return new GitsignError('GIT', `cannot run git: ${err.code ?? err.message}`);
}
