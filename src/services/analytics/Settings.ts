import { Config, Duration } from "effect"

/** The archive's roll-over: each partition's open file rolls at a size, an age, when idle, and when the hour changes. */
export interface ArchiveSettings {
  /** Roll a file over once its NDJSON reaches this many bytes. */
  readonly maxBytes: number
  /** ... once it has been open this long. */
  readonly maxAge: Duration.Duration
  /** ... once nothing was appended to it for this long. */
  readonly idleAfter: Duration.Duration
  /** How often age and idleness are checked. */
  readonly tick: Duration.Duration
  /**
   * The limits of the first file of a partition after it was assigned (a start, a restart, a
   * rebalance): each later file doubles them, up to `maxBytes` and `maxAge`. A restarted member then
   * commits within seconds, even with a backlog to re-read, instead of after a full-size file.
   */
  readonly firstBytes: number
  readonly firstAge: Duration.Duration
}

export const ArchiveSettings = Config.all({
  maxBytes: Config.integer("ARCHIVE_MAX_BYTES").pipe(Config.withDefault(4 * 1024 * 1024)),
  maxAge: Config.duration("ARCHIVE_MAX_AGE").pipe(Config.withDefault(Duration.seconds(15))),
  idleAfter: Config.duration("ARCHIVE_IDLE").pipe(Config.withDefault(Duration.seconds(5))),
  tick: Config.duration("ARCHIVE_TICK").pipe(Config.withDefault(Duration.seconds(1))),
  firstBytes: Config.integer("ARCHIVE_FIRST_BYTES").pipe(Config.withDefault(64 * 1024)),
  firstAge: Config.duration("ARCHIVE_FIRST_AGE").pipe(Config.withDefault(Duration.seconds(1)))
})

/** The roll limits of a partition's `n`th file (from 0) since it was assigned: doubling from the first ones. */
export const limitsOf = (settings: ArchiveSettings, n: number): { readonly maxBytes: number; readonly maxAgeMillis: number } => {
  const factor = 2 ** Math.min(n, 30)
  return {
    maxBytes: Math.min(settings.maxBytes, settings.firstBytes * factor),
    maxAgeMillis: Math.min(Duration.toMillis(settings.maxAge), Duration.toMillis(settings.firstAge) * factor)
  }
}

/**
 * The hot path's micro-batches: per partition, at most `maxEvents` events or `maxWait` old, whichever
 * first (while one is being applied, the next one keeps filling). An event still in a batch not applied
 * `freshAfter` after it was read is written to its seller's pending record, which readers add.
 */
export interface HotSettings {
  readonly maxEvents: number
  readonly maxWait: Duration.Duration
  readonly freshAfter: Duration.Duration
}

export const HotSettings = Config.all({
  maxEvents: Config.integer("HOT_MAX_EVENTS").pipe(Config.withDefault(1000)),
  maxWait: Config.duration("HOT_MAX_WAIT").pipe(Config.withDefault(Duration.seconds(1))),
  freshAfter: Config.duration("HOT_FRESH_AFTER").pipe(
    Config.validate({
      message: "HOT_FRESH_AFTER must be a positive, finite duration",
      validation: (d) => Duration.isFinite(d) && Duration.toMillis(d) > 0
    }),
    Config.withDefault(Duration.millis(250))
  )
})

/** Rolled units queued per partition (files, batches) before the lane waits: back-pressure. */
export const queuedPerPartition = 4
