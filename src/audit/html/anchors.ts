import type { AuditEntry, PolicyVersion } from '../types';

/** The page's anchors: every link stays inside the page (no outside request can follow from a click). */
export const entryAnchor = (e: Pick<AuditEntry, 'type' | 'object'>): string => `${e.type}-${e.object}`;

/** A policy version by its place in the report (the trust root is 0): origins are not all commit IDs. */
export const policyAnchor = (index: number): string => `policy-${index}`;

/** Each policy version's place by its origin (the first, should two share one). */
export function versionPlaces(versions: readonly PolicyVersion[]): Map<string, number> {
  const places = new Map<string, number>();
  versions.forEach((v, i) => {
    if (!places.has(v.origin)) places.set(v.origin, i);
  });
  return places;
}
