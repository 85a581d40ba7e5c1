import { bundleCase, type BundleSubject, loadBundleSubjects, verifyBundleText } from './bundles';
import { loadCorpusSubjects } from './corpusSubjects';
import { type ObjectSubject, objectCase, verifyObject } from './objects';
import { type CaseReport } from './outcome';
import { Peer } from './peer';
import { Rng } from './prng';
import { sandboxWorld, type SandboxWorld } from './sandboxSubjects';
import { serverCase } from './servers';

/**
 * The fuzzer's world in one thread (corpus, conformance bundles, an in-process sandbox behind the
 * mutating front) and the dispatch of one case number to a family. The family and every choice of a
 * case come from Rng.forCase(seed, n) alone, so case n is the same mutation in any run and any worker.
 */
export interface World {
  embedded: ObjectSubject[];
  online: ObjectSubject[];
  sandbox: SandboxWorld;
  bundles: BundleSubject[];
  /** Subjects whose unmutated form did not give the expected result (left out, and reported). */
  baselineProblems: string[];
}

export async function buildWorld(): Promise<World> {
  process.env.SIGSTORE_NO_CACHE = '1'; // the public-good root is the seeded one, whatever a TUF refresh left
  const corpus = await loadCorpusSubjects();
  const peer = await Peer.start();
  const sandbox = await sandboxWorld(peer);
  const bundles = await loadBundleSubjects();
  const problems: string[] = [];
  const keep = async (s: ObjectSubject): Promise<boolean> => {
    const o = await verifyObject(s, s.raw);
    if (o.kind !== 'accepted') problems.push(`${s.kind} ${s.name}: the unmutated object does not verify (${o.kind === 'rejected' ? `${o.code}: ${o.message}` : o.message})`);
    return o.kind === 'accepted';
  };
  const filter = async (list: ObjectSubject[]): Promise<ObjectSubject[]> => {
    const out: ObjectSubject[] = [];
    for (const s of list) if (await keep(s)) out.push(s);
    return out;
  };
  const embedded = await filter(corpus.filter((s) => s.kind === 'corpus-embedded'));
  // Every 37th online-mode object checked up front; the others are used as they come.
  const onlineAll = corpus.filter((s) => s.kind === 'corpus-online');
  const checked = await filter(onlineAll.filter((_, i) => i % 37 === 0));
  const online = [...checked, ...onlineAll.filter((_, i) => i % 37 !== 0)];
  sandbox.subjects = await filter(sandbox.subjects);
  const goodBundles: BundleSubject[] = [];
  for (const b of bundles) {
    const o = await verifyBundleText(b, b.text, b.artifact);
    if ((o.kind === 'accepted') !== !b.mustFail) problems.push(`bundle ${b.name}: unmutated result ${o.kind}${o.kind === 'rejected' ? ` (${o.code}: ${o.message})` : ''}`);
    else goodBundles.push(b);
  }
  return { embedded, online, sandbox, bundles: goodBundles, baselineProblems: problems };
}

export type Family = 'corpus-embedded' | 'corpus-online' | 'sandbox-object' | 'bundle' | 'server';

export const FAMILY_WEIGHTS: [number, Family][] = [
  [20, 'corpus-embedded'],
  [13, 'corpus-online'],
  [22, 'sandbox-object'],
  [20, 'bundle'],
  [25, 'server'],
];

export async function runCase(world: World, seed: number, n: number): Promise<CaseReport> {
  const rng = Rng.forCase(seed, n);
  const family = rng.weighted(FAMILY_WEIGHTS);
  switch (family) {
    case 'corpus-embedded':
      return objectCase(rng, world.embedded);
    case 'corpus-online':
      return objectCase(rng, world.online);
    case 'sandbox-object':
      return objectCase(rng, world.sandbox.subjects);
    case 'bundle':
      return bundleCase(rng, world.bundles);
    case 'server':
      return serverCase(rng, world.sandbox);
  }
}

export async function closeWorld(world: World): Promise<void> {
  await world.sandbox.peer.close();
}
