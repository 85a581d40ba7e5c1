/** A JSON object (not null, not an array): what every parsed answer, bundle or file is checked to be first. */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The latest Unix time, in seconds, a Date can hold: a larger value read from an answer is no time. */
export const MAX_DATE_SECONDS = 8.64e12;
