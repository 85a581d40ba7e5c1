import { GitsignError } from '../../errors';

/**
 * The sandbox's hostile mode: `gitsign sandbox up --fault KIND[,KIND]`, each item KIND or SERVICE:KIND.
 * A kind about one service's content (a Rekor entry, a Fulcio certificate, a TSA token) belongs to that
 * service; a transport kind applies to every service unless scoped to one. At most one transport kind
 * per service (each replaces the whole answer).
 */
export const SERVICES = ['oidc', 'fulcio', 'rekor', 'tsa'] as const;
export type Service = (typeof SERVICES)[number];

interface KindInfo {
  /** The services it can apply to; a transport kind applies to all of them. */
  services: readonly Service[];
  transport: boolean;
  /** One line for usage errors and the documentation. */
  summary: string;
}

const rekor = (summary: string): KindInfo => ({ services: ['rekor'], transport: false, summary });
const fulcio = (summary: string): KindInfo => ({ services: ['fulcio'], transport: false, summary });
const transport = (summary: string): KindInfo => ({ services: SERVICES, transport: true, summary });

export const KINDS = {
  'set-dropped': rekor('Rekor v1 entries come without their signed entry timestamp (SET)'),
  'integrated-time-moved': rekor('integratedTime is one second later than logged; the SET is left as signed over the true time'),
  'inclusion-proof-altered': rekor('the inclusion proof path no longer leads to the checkpoint root (v1 and v2)'),
  'checkpoint-altered': rekor("the checkpoint's root hash is changed; its signature is left as signed (v1 and v2)"),
  'entry-for-another-signature': rekor('a genuine, fully signed entry is returned, but it logs another signature (v1 and v2)'),
  'certificate-for-another-key': fulcio('Fulcio certifies another key than the one whose possession was proved'),
  'unknown-ca': fulcio('certificates chain to a root that is not in the trusted root (same names, other keys)'),
  'sct-missing': fulcio('certificates carry no SCT'),
  'sct-forged': fulcio("the SCT names the trusted CT log but is signed by another key"),
  'tsa-other-digest': { services: ['tsa'], transport: false, summary: 'RFC 3161 tokens are signed over another digest than the one sent' },
  oversized: transport('200 with an endless-looking body (1 GiB, chunked, no Content-Length)'),
  'slow-drip': transport('200 and headers at once, then one body byte every 2 seconds, never finishing'),
  'http-5xx': transport('every request is answered 503'),
  'connection-reset': transport('every request is answered with a TCP reset'),
} as const satisfies Record<string, KindInfo>;

export type FaultKind = keyof typeof KINDS;

export interface Fault {
  service: Service;
  kind: FaultKind;
}

const isKind = (s: string): s is FaultKind => Object.hasOwn(KINDS, s);
const isService = (s: string): s is Service => (SERVICES as readonly string[]).includes(s);

/** Input echoed in an error: printable ASCII only, the rest escaped. */
const shown = (s: string): string => JSON.stringify(s.slice(0, 60)).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function usage(why: string): GitsignError {
  return new GitsignError('USAGE', `--fault: ${why} (kinds: ${Object.keys(KINDS).join(', ')}; scope one to a service as SERVICE:KIND, services: ${SERVICES.join(', ')})`);
}

/** The faults a sandbox runs with; empty means a faithful sandbox. */
export class FaultPlan {
  constructor(readonly faults: readonly Fault[] = []) {}

  get empty(): boolean {
    return this.faults.length === 0;
  }

  /** The content kinds for a service (e.g. rekor: set-dropped, checkpoint-altered). */
  kinds(service: Service): Set<FaultKind> {
    return new Set(this.faults.filter((f) => f.service === service && !KINDS[f.kind].transport).map((f) => f.kind));
  }

  /** The transport kind replacing a service's answers, if any. */
  transport(service: Service): FaultKind | undefined {
    return this.faults.find((f) => f.service === service && KINDS[f.kind].transport)?.kind;
  }

  /** SERVICE:KIND of each, in a stable order (what `--fault` takes back). */
  items(): string[] {
    return this.faults.map((f) => `${f.service}:${f.kind}`);
  }

  /** "rekor:set-dropped, fulcio:http-5xx, ..." in a stable order. */
  toString(): string {
    return this.items().join(', ');
  }
}

/** `--fault` values (repeatable, comma-separated) as a plan; anything unknown is a usage error. */
export function parseFaults(values: string | readonly string[] | undefined): FaultPlan {
  const items = (values === undefined ? [] : typeof values === 'string' ? [values] : values).flatMap((v) => String(v).split(','));
  const faults: Fault[] = [];
  for (const raw of items) {
    const item = raw.trim();
    const colon = item.indexOf(':');
    const scope = colon < 0 ? undefined : item.slice(0, colon);
    const name = colon < 0 ? item : item.slice(colon + 1);
    if (!isKind(name)) throw usage(item === '' ? 'an empty item' : `unknown fault ${shown(name)}`);
    if (scope !== undefined && !isService(scope)) throw usage(`unknown service ${shown(scope)} in ${shown(item)}`);
    const info: KindInfo = KINDS[name];
    if (scope !== undefined && !info.services.includes(scope)) throw usage(`${name} is a fault of ${info.services.join(', ')}, not of ${scope}`);
    for (const service of scope !== undefined ? [scope] : info.services) {
      if (faults.some((f) => f.service === service && f.kind === name)) continue;
      const other = info.transport && faults.find((f) => f.service === service && KINDS[f.kind].transport);
      if (other) throw usage(`${service} cannot have both ${other.kind} and ${name} (each replaces the whole answer)`);
      faults.push({ service, kind: name });
    }
  }
  const order = (f: Fault): number => SERVICES.indexOf(f.service) * 100 + Object.keys(KINDS).indexOf(f.kind);
  return new FaultPlan(faults.sort((a, b) => order(a) - order(b)));
}
