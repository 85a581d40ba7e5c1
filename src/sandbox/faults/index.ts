import type { CertificateAuthority } from '../fulcio/ca';
import type { CtLog } from '../fulcio/ctlog';
import type { Router } from '../http/router';
import type { TransparencyLog } from '../rekor/log';
import type { Material } from '../state/material';
import type { TimestampAuthority } from '../tsa/authority';
import { faultyCertificateAuthority } from './fulcio';
import { FaultPlan, type Service } from './kinds';
import { faultyLog } from './rekor';
import { faultyRoutes } from './transport';
import { faultyTimestampAuthority } from './tsa';

/**
 * Where the sandbox's hostile mode plugs in: the services are built as always, on the views given here
 * (their router, CA, logs, TSA). With an empty plan every view is the object itself.
 */
export class Faults {
  constructor(
    readonly plan: FaultPlan,
    private readonly material: Material,
  ) {}

  routes(router: Router, service: Service): Router {
    return faultyRoutes(router, service, this.plan.transport(service));
  }

  certificateAuthority(ca: CertificateAuthority, ctlog: CtLog): CertificateAuthority {
    return faultyCertificateAuthority(ca, this.plan.kinds('fulcio'), this.material, ctlog);
  }

  log(log: TransparencyLog, version: 1 | 2): TransparencyLog {
    return faultyLog(log, version, this.plan.kinds('rekor'));
  }

  timestampAuthority(tsa: TimestampAuthority): TimestampAuthority {
    return faultyTimestampAuthority(tsa, this.plan.kinds('tsa'));
  }
}

export { FaultPlan } from './kinds';
