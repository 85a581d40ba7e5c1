import type { Socket } from 'node:net';
import { type Addon as NativeAddon, ADDON_FILE, loadAddon } from '../addon';

/**
 * Who is at the other end of a connection: the kernel's answer (SO_PEERCRED on Linux, getpeereid on
 * macOS) through our small addon native/peercred.c, since Node exposes neither. Both ends ask: the
 * daemon serves only its own user (the socket directory's 0700 mode keeps others out too, but not a
 * socket reached another way: a looser directory, an SSH-forwarded path, a file descriptor passed on),
 * and gitsign talks only to a daemon of its own user (a socket file's owner says who bound it, not who
 * listens on the path by the time we connect). On a connected socket the kernel reports the process
 * that called connect() (to the daemon) or listen() (to the client).
 */
export interface PeerCredentials {
  uid: number;
  gid: number;
  /** -1 where the system does not tell. */
  pid: number;
}

type Addon = Pick<NativeAddon, 'peerCredentials'>;

/** The addon, or why there is none. */
export type PeerCheck = { addon: Addon } | { reason: string };

/** Loaded once per process, on first use (gitsign only when a cache is configured). */
export function loadPeerCheck(): PeerCheck {
  const addon = loadAddon();
  return addon ? { addon } : { reason: `the ${ADDON_FILE} helper is not built (npm run build needs a C compiler and Node's headers)` };
}

/** The peer of a connected Unix socket (accepted or dialled); throws when the kernel does not say. */
export function peerOf(a: Addon, socket: Socket): PeerCredentials {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('the connection has no file descriptor');
  return a.peerCredentials(fd);
}
