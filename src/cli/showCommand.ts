import { commitStatement, goIndentedJson, tagStatement } from '../attest/predicate';
import { GitsignError } from '../errors';
import { CatFile, type RawObject } from '../git/catFile';
import { gitConfigValue } from '../git/run';
import { jsonLines } from '../text/terminal';
import { printOut } from './io';

/**
 * `gitsign show [-r REMOTE] [REV]`: the in-toto statement for a commit or annotated tag, as gitsign
 * prints it. A name under refs/tags must be an annotated tag (a lightweight tag's data is its
 * commit's: show the commit instead); anything else resolves as a revision.
 */
export interface ShowArgs {
  revision?: string;
  remote: string;
}

/** A plain name (no revision operators) that may name refs/tags/<name>. */
const TAG_NAME = /^[^\s~^:?*[\\]+$/;

async function resolve(catFile: CatFile, rev: string): Promise<RawObject> {
  if (TAG_NAME.test(rev)) {
    const tag = await catFile.read(`refs/tags/${rev}`);
    if (tag) {
      if (tag.type !== 'tag') throw new GitsignError('GIT', `${rev} is not an annotated tag`);
      return tag;
    }
  }
  const obj = await catFile.read(rev);
  if (!obj) throw new GitsignError('GIT', `unknown revision ${rev}`);
  if (obj.type !== 'commit' && obj.type !== 'tag') throw new GitsignError('GIT', `${rev} is a ${obj.type}, not a commit or tag`);
  return obj;
}

export async function showCommand(args: ShowArgs): Promise<number> {
  const rev = args.revision ?? 'HEAD';
  const catFile = new CatFile();
  let obj: RawObject;
  try {
    obj = await resolve(catFile, rev);
  } finally {
    catFile.close();
  }
  // The subject's name is the remote's (first) URL; none when the remote does not exist.
  const remoteUrl = await gitConfigValue(`remote.${args.remote}.url`);
  const statement = obj.type === 'tag' ? tagStatement(obj.sha, obj.raw, remoteUrl) : commitStatement(obj.sha, obj.raw, remoteUrl);
  printOut(...jsonLines(goIndentedJson(statement)));
  return 0;
}
