import { z } from 'zod';

/** Largest value of a Postgres `integer` column. */
export const PG_INT4_MAX = 2_147_483_647;

const YEAR = '(?:000[1-9]|00[1-9]\\d|0[1-9]\\d{2}|[1-9]\\d{3})';
const TIME = '(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d{1,6})?';
/** Postgres accepts zone offsets up to ±15:59 and has no year 0. */
const OFFSET = '(?:Z|[+-](?:0\\d|1[0-5]):[0-5]\\d)';
/** Month and day: 31 only in long months, February to the 28th (the 29th: LEAP_DAY). */
const MONTH_DAY =
  '(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8]))';
/** February 29 of a leap year: divisible by 4 but not by 100, or by 400. */
const LEAP_DAY =
  '(?:\\d\\d(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)-02-29';
const TIMESTAMP = new RegExp(`^(?:${YEAR}-${MONTH_DAY}|${LEAP_DAY})T${TIME}${OFFSET}$`);

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
