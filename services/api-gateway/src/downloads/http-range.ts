/** RFC 9110 byte ranges, reduced to what a package download needs. */
export type RangeDecision =
  { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * Interprets a Range header against a representation of `size` bytes. Syntax we do not serve
 * (other units, malformed values, several ranges) is ignored and answered with the full body, as
 * RFC 9110 permits; a well-formed range that starts past the end is unsatisfiable (416).
 */
export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (!header) return { kind: 'full' };
  const match = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!match) return { kind: 'full' };
  const specs = match[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (specs.length !== 1) return { kind: 'full' };
  const spec = /^(\d*)-(\d*)$/.exec(specs[0]);
  if (!spec || (spec[1] === '' && spec[2] === '')) return { kind: 'full' };

  if (spec[1] === '') {
    // Suffix range: the last N bytes.
    const length = Number(spec[2]);
    if (length === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(spec[1]);
  const end = spec[2] === '' ? size - 1 : Math.min(Number(spec[2]), size - 1);
  if (spec[2] !== '' && Number(spec[2]) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}

/** Strong comparison for If-Range; weak comparison for If-None-Match (RFC 9110 §13.1.2, §8.8.3.2). */
export function etagMatches(header: string | undefined, etag: string, weak: boolean): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const normalize = (tag: string) => (weak ? tag.replace(/^W\//, '') : tag);
  return header
    .split(',')
    .map((t) => t.trim())
    .filter((t) => weak || !t.startsWith('W/'))
    .some((t) => normalize(t) === normalize(etag));
}

/** If-Range with a stale validator means "send everything": the client's partial copy is outdated. */
export function ifRangeAllowsPartial(
  ifRange: string | undefined,
  etag: string,
  lastModified: Date,
): boolean {
  if (!ifRange) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return etagMatches(value, etag, false);
  const date = Date.parse(value);
  return (
    Number.isFinite(date) && Math.floor(lastModified.getTime() / 1000) <= Math.floor(date / 1000)
  );
}
