import { Schema } from "effect"

/** 13-digit epoch millis: the range eventIds can express. */
export const minEpochMillis = 1_000_000_000_000
export const maxEpochMillis = 9_999_999_999_999

export const isoMillisUtc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/** A real instant in the 13-digit range, written exactly as `toISOString` writes it. */
export const isCanonical = (s: string): boolean => {
  const ms = Date.parse(s)
  return Number.isFinite(ms) && ms >= minEpochMillis && ms <= maxEpochMillis && new Date(ms).toISOString() === s
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
