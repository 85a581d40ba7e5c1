import { GitsignError } from '../../errors';
import type { TokenProvider } from './types';

/** SIGSTORE_ID_TOKEN: enabled when the variable exists at all, empty included (cosign's LookupEnv). */
export const envvar: TokenProvider = {
  name: 'envvar',
  enabledWhen: 'SIGSTORE_ID_TOKEN is set',
  enabledHere: (env) => env.SIGSTORE_ID_TOKEN !== undefined,
  provide: async ({ env }) => {
    if (env.SIGSTORE_ID_TOKEN === undefined) throw new GitsignError('TOKEN', 'SIGSTORE_ID_TOKEN is not set');
    return env.SIGSTORE_ID_TOKEN;
  },
};
