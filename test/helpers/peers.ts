import { readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { executable } from '../../src/doctor/shell';
import { ROOT } from './paths';

/**
 * The programs tests run (scripts/peers.json, shared with scripts/preflight.mjs). A test whose peer is
 * missing fails at once with the command that installs it, never hangs and never passes silently.
 */
interface Peer {
  name: string;
  package: string;
  for: string;
  path?: string;
  env?: string;
}

const PEERS: Peer[] = (JSON.parse(readFileSync(join(ROOT, 'scripts', 'peers.json'), 'utf8')) as { peers: Peer[] }).peers;

function peer(name: string): Peer {
  const p = PEERS.find((x) => x.name === name);
  if (!p) throw new Error(`test/helpers/peers: ${name} is not in scripts/peers.json (add it there, with its Debian package)`);
  return p;
}

/** Where the peer is (its variable, its fixed path, or the first match on PATH), or null. */
export function locatePeer(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const p = peer(name);
  if (p.path) {
    const at = (p.env && env[p.env]) || p.path;
    return executable(at) ? at : null;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) if (dir && executable(join(dir, name))) return join(dir, name);
  return null;
}

/** False when the peer is here; else one sentence naming it and the command that installs it. */
export function peerMissing(name: string, env: NodeJS.ProcessEnv = process.env): string | false {
  if (locatePeer(name, env)) return false;
  const p = peer(name);
  const where = p.path ? `${(p.env && env[p.env]) || p.path}${p.env ? ` (set ${p.env} to use another)` : ''}` : `${name} on PATH`;
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  return `${name} is missing (${where}), needed for ${p.for}: install it with \`${sudo}apt-get install -y ${p.package}\` (node scripts/preflight.mjs checks them all)`;
}

/** The peer's path; throws the peerMissing sentence when it is absent. */
export function requirePeer(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const missing = peerMissing(name, env);
  if (missing) throw new Error(missing);
  return locatePeer(name, env)!;
}
