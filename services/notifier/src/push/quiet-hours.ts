/**
 * Quiet hours: a daily window [start, end) of wall-clock times in an IANA zone. A notification
 * falling inside is delayed to the window's end (never dropped). start > end spans midnight
 * (22:00–07:00); start = end is an empty window.
 */
export interface QuietHours {
  /** HH:MM or HH:MM:SS */
  start: string;
  end: string;
  timezone: string;
}

/** Seconds since midnight of `HH:MM[:SS]`. */
export function secondsOfDay(time: string): number {
  const m = /^(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(time);
  if (!m) throw new Error(`"${time}" is not HH:MM or HH:MM:SS`);
  const [h, min, s] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  if (h > 23 || min > 59 || s > 59) throw new Error(`"${time}" is not a time of day`);
  return h * 3600 + min * 60 + s;
}

export function isValidTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock seconds since local midnight of `instant` in `zone`. */
function localSeconds(instant: Date, zone: string): number {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(instant).map((p) => [p.type, p.value]));
  return Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second);
}

/**
 * When a notification created at `now` may be sent: `now` outside the window, else the end of
 * the window (the instant the zone's clock next reads `end`, DST shifts included).
 */
export function quietHoursEnd(now: Date, quiet: QuietHours): Date {
  const start = secondsOfDay(quiet.start);
  const end = secondsOfDay(quiet.end);
  if (start === end) return now;
  const local = localSeconds(now, quiet.timezone);
  const inside = start < end ? local >= start && local < end : local >= start || local < end;
  if (!inside) return now;
  const wait = (end - local + 86_400) % 86_400;
  let candidate = new Date(Math.floor(now.getTime() / 1000) * 1000 + wait * 1000);
  // A DST change inside the wait moves the wall clock: correct by the difference once.
  const drift = (end - localSeconds(candidate, quiet.timezone) + 86_400) % 86_400;
  if (drift !== 0)
    candidate = new Date(candidate.getTime() + (drift > 43_200 ? drift - 86_400 : drift) * 1000);
  return candidate;
}
