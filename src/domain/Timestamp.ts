import { Schema } from "effect"

/** 13-digit epoch millis: the range eventIds can express. */
export const minEpochMillis = 1_000_000_000_000
export const maxEpochMillis = 9_999_999_999_999

export const isoMillisUtc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/** The number written by `length` ASCII digits from `from`; -1 if any is not a digit. */
export const digits = (s: string, from: number, length: number): number => {
  let n = 0
  for (let i = from; i < from + length; i++) {
    const d = s.charCodeAt(i) - 48
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return n
}

const daysInMonth = (year: number, month: number): number =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31

/**
 * A real instant in the 13-digit range, written exactly as `toISOString` writes it: every field in
 * its range (no 24:00, no 30 February). Checked field by field: it is on every consumer's hot path.
 */
export const isCanonical = (s: string): boolean => canonicalMillis(s) >= 0

/**
 * The epoch millis of a canonical timestamp (as `isCanonical` defines it, and equal to `Date.parse`'s),
 * -1 for any other string: one pass for the check and the number an eventId carries.
 */
export const canonicalMillis = (s: string): number => {
  if (
    s.length !== 24 || s[4] !== "-" || s[7] !== "-" || s[10] !== "T" || s[13] !== ":" || s[16] !== ":" ||
    s[19] !== "." || s[23] !== "Z"
  ) return -1
  const year = digits(s, 0, 4)
  const month = digits(s, 5, 2)
  const day = digits(s, 8, 2)
  const hour = digits(s, 11, 2)
  const minute = digits(s, 14, 2)
  const second = digits(s, 17, 2)
  const milli = digits(s, 20, 3)
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return -1
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || milli < 0) return -1
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, milli)
  return ms >= minEpochMillis && ms <= maxEpochMillis ? ms : -1
}

/**
 * ISO-8601 UTC with milliseconds, exactly as `Date.prototype.toISOString` writes it.
 * Kept as a string so that an event re-encodes to the very bytes it was decoded from.
 */
export const Timestamp = Schema.String.pipe(
  Schema.pattern(isoMillisUtc, { message: () => "must be ISO-8601 UTC with milliseconds, e.g. 2026-11-26T20:24:14.123Z" }),
  Schema.filter(isCanonical, {
    message: () => "must be a real UTC instant between 2001-09-09T01:46:40.000Z and 2286-11-20T17:46:39.999Z",
    jsonSchema: { format: "date-time" },
    arbitrary: () => (fc) =>
      fc.integer({ min: minEpochMillis, max: maxEpochMillis }).map((ms) => new Date(ms).toISOString())
  }),
  Schema.brand("Timestamp"),
  (timestamp) =>
    timestamp.annotations({
      identifier: "Timestamp",
      description: "ISO-8601 UTC timestamp with milliseconds (13-digit epoch millis range).",
      examples: [timestamp.make("2026-11-26T20:24:14.123Z")]
    })
)
export type Timestamp = typeof Timestamp.Type

export const timestampFromMillis = (ms: number): Timestamp => new Date(ms).toISOString() as Timestamp
export const timestampToMillis = (t: Timestamp): number => Date.parse(t)
