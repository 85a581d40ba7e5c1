import { GitsignError } from '../errors';

/**
 * systemd socket activation (sd_listen_fds(3)): the listening sockets are file descriptors 3.. passed
 * to us when LISTEN_PID is our pid; the variables are then removed so children do not inherit them.
 */
export const SD_LISTEN_FDS_START = 3;

export function listenFds(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number[] {
  const wantPid = env.LISTEN_PID;
  const count = env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  if (wantPid === undefined || count === undefined) {
    throw new GitsignError('USAGE', '--systemd-socket-activation: LISTEN_PID and LISTEN_FDS are not set (start me from a systemd .socket unit)');
  }
  if (Number(wantPid) !== pid) throw new GitsignError('USAGE', `--systemd-socket-activation: LISTEN_PID ${wantPid} is not this process (${pid})`);
  const n = Number(count);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new GitsignError('USAGE', `--systemd-socket-activation: LISTEN_FDS "${count}" is not a count of sockets`);
  return Array.from({ length: n }, (_, i) => SD_LISTEN_FDS_START + i);
}
