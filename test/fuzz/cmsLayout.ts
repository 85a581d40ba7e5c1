import { type Node, isCtx, isSet, oidString, parseDer } from './der';
import { OIDS } from './judge';

/**
 * Where things are in a CMS ContentInfo(SignedData), as paths of child indices: the regions the
 * fuzzer aims at, the certificates, and the values of the embedded Rekor entry and timestamp tokens.
 */
export interface Region {
  name: string;
  path: number[];
}

export interface CmsLayout {
  root: Node;
  regions: Region[];
  certs: { path: number[]; node: Node; signer: boolean }[];
  rekorValue?: number[];
  tsaValues: number[][];
}

const EXTENSION_NAMES: Record<string, string> = {
  '2.5.29.15': 'keyUsage',
  '2.5.29.37': 'extKeyUsage',
  '2.5.29.14': 'subjectKeyId',
  '2.5.29.35': 'authorityKeyId',
  '2.5.29.17': 'subjectAltName',
  '2.5.29.19': 'basicConstraints',
  '1.3.6.1.4.1.11129.2.4.2': 'sct',
};

export function extensionName(oid: string): string {
  if (EXTENSION_NAMES[oid]) return EXTENSION_NAMES[oid];
  if (oid.startsWith('1.3.6.1.4.1.57264.1.')) return `fulcio.${oid.slice('1.3.6.1.4.1.57264.1.'.length)}`;
  return 'other';
}

export function cmsLayout(der: Buffer): CmsLayout {
  const root = parseDer(der);
  const regions: Region[] = [{ name: 'contentType', path: [0] }];
  const sd = root.children?.[1]?.children?.[0];
  const sdPath = [1, 0];
  const certs: CmsLayout['certs'] = [];
  const tsaValues: number[][] = [];
  let rekorValue: number[] | undefined;
  if (!sd?.children) return { root, regions, certs, tsaValues };
  const f = sd.children;
  regions.push({ name: 'sd.version', path: [...sdPath, 0] }, { name: 'sd.digestAlgorithms', path: [...sdPath, 1] }, { name: 'sd.encapContentInfo', path: [...sdPath, 2] });
  f.forEach((n, i) => {
    if (i < 3) return;
    const path = [...sdPath, i];
    if (isCtx(n, 0)) {
      regions.push({ name: 'sd.certificates', path });
      n.children?.forEach((c, j) => certs.push({ path: [...path, j], node: c, signer: false }));
    } else if (isSet(n)) {
      n.children?.forEach((si, s) => {
        const sp = [...path, s];
        const names = ['si.version', 'si.sid', 'si.digestAlgorithm'];
        si.children?.forEach((c, k) => {
          let name = names[k];
          if (!name) {
            if (isCtx(c, 0)) name = 'si.signedAttrs';
            else if (isCtx(c, 1)) name = 'si.unsignedAttrs';
            else if (c.id[0] === 0x04) name = 'si.signature';
            else name = 'si.signatureAlgorithm';
          }
          regions.push({ name, path: [...sp, k] });
          if (name === 'si.unsignedAttrs') {
            c.children?.forEach((attr, a) => {
              const oid = attr.children?.[0] ? oidString(attr.children[0].content) : '';
              const valuesPath = [...sp, k, a, 1];
              if (oid === OIDS.rekorEntry && s === 0) rekorValue = [...valuesPath, 0];
              if (oid === OIDS.timeStampToken && s === 0) attr.children?.[1]?.children?.forEach((_, v) => tsaValues.push([...valuesPath, v]));
            });
          }
          if (name === 'si.sid' && s === 0 && c.children?.length === 2) {
            // The signer's certificate: same issuer and serial bytes.
            for (const cert of certs) {
              const tbs = cert.node.children?.[0]?.children ?? [];
              const off = isCtx(tbs[0], 0) ? 1 : 0;
              if (tbs[off]?.content.equals(c.children[1].content) && tbs[off + 2] && der.subarray(tbs[off + 2].start, tbs[off + 2].end).equals(der.subarray(c.children[0].start, c.children[0].end))) {
                cert.signer = true;
              }
            }
          }
        });
      });
    } else {
      regions.push({ name: 'sd.other', path });
    }
  });
  return { root, regions, certs, rekorValue, tsaValues };
}

/** Regions of a certificate (paths inside the certificate's own DER). */
export function certRegions(cert: Node): Region[] {
  const regions: Region[] = [
    { name: 'cert.signatureAlgorithm', path: [1] },
    { name: 'cert.signatureValue', path: [2] },
  ];
  const tbs = cert.children?.[0]?.children ?? [];
  const names = ['serial', 'innerSignatureAlgorithm', 'issuer', 'validity', 'subject', 'spki'];
  let k = 0;
  tbs.forEach((n, i) => {
    if (i === 0 && isCtx(n, 0)) return regions.push({ name: 'tbs.version', path: [0, i] });
    if (isCtx(n, 3)) {
      n.children?.[0]?.children?.forEach((ext, e) => {
        const oid = ext.children?.[0] ? oidString(ext.children[0].content) : '';
        regions.push({ name: `ext.${extensionName(oid)}`, path: [0, i, 0, e] });
      });
      return;
    }
    regions.push({ name: `tbs.${names[k++] ?? 'other'}`, path: [0, i] });
  });
  return regions;
}
