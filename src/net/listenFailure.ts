/**
 * Why a listen() failed, as a clause about the address: the errno codes people meet in words, anything
 * else as its code. The caller adds the fix, which is its own setting.
 */
export function listenFailure(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'it is already in use by another program';
    case 'EACCES':
      return 'it needs privileges this user lacks (ports below 1024 do)';
    case 'EADDRNOTAVAIL':
      return 'that address is not one of this machine';
    default:
      return `it cannot be listened on (${err.code ?? err.message})`;
  }
}
