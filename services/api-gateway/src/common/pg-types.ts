import { z } from 'zod';

/** Largest value of a Postgres `integer` column. */
export const PG_INT4_MAX = 2_147_483_647;

const YEAR = '(?:000[1-9]|00[1-9]\\d|0[1-9]\\d{2}|[1-9]\\d{3})';
const TIME = '(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d{1,6})?';
/** Postgres accepts zone offsets up to ±15:59 and has no year 0. */
const OFFSET = '(?:Z|[+-](?:0\\d|1[0-5]):[0-5]\\d)';
const TIMESTAMP = new RegExp(
  `^${YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\\d|3[01])T${TIME}${OFFSET}$`,
);

/**
 * An ISO 8601 date-time Postgres can store in a `timestamptz`: years 0001-9999, an explicit zone
 * (Z or an offset up to ±15:59), microseconds at most, and a day that exists in its month. The
 * pattern is published in the OpenAPI document, so generated clients and fuzzers see the rule.
 */
export function pgTimestamp(message = 'must be an ISO 8601 date-time with a zone') {
  return z
    .string()
    .regex(TIMESTAMP, message)
    .refine((value) => {
      const [year, month, day] = value.slice(0, 10).split('-').map(Number);
      return new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day;
    }, 'is not a day of its month');
}

/** Paths of strings in `value` that contain NUL, which Postgres text cannot store. */
export function nulStringPaths(value: unknown, path: string[] = [], out: string[][] = []) {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) out.push(path);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => nulStringPaths(v, [...path, String(i)], out));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0000')) out.push([...path, k]);
      nulStringPaths(v, [...path, k], out);
    }
  }
  return out;
}
