import { Cause, Clock, Config, Deferred, Duration, Effect, ExecutionStrategy, Queue, Schedule, Scope } from "effect"
import { analyticsService, deadLetterTopic, productEventsTopic, retrySchedule } from "../domain/Consumers.js"
import { hourOf, type LifecycleEvent } from "../domain/MetricsDelta.js"
import { encodeProductEvent } from "../domain/ProductEvent.js"
import type { LifecycleEventJson } from "../workers/AnalyticsRequests.js"
import { AnalyticsWorkers } from "../workers/AnalyticsWorkers.js"
import type { ArchiveEntry } from "./analytics/ArchiveEntry.js"
import { archiveKey, partitionPrefix, rangeOfKey } from "./analytics/ArchiveKeys.js"
import { applyHot } from "./analytics/HotMetrics.js"
import { deadLetterMessage, describeFailure } from "./DeadLetters.js"
import { EventLog, type LogRecord, type TopicPartition } from "./EventLog.js"
import { MetricsStore } from "./MetricsStore.js"
import { ObjectStore } from "./ObjectStore.js"

/** A file being filled: one partition, one hour of event time, a contiguous run of its offsets. */
interface OpenFile {
  readonly partition: number
  readonly hour: string
  readonly entries: Array<ArchiveEntry>
  readonly finishers: Array<() => void>
  readonly openedAt: number
  /** Its own roll limits: small for the first files after the partition was assigned (see `limitsOf`). */
  readonly maxBytes: number
  readonly maxAgeMillis: number
  lastAppendAt: number
  bytes: number
  /** Handed to its partition's upload queue: later rolls are no-ops. */
  rolled: boolean
  /** Its partition was revoked: upload nothing, its records belong to another member now. */
  dropped: boolean
  /** Its first-seen entries once they are in the hot store: from then on only the upload is retried. */
  counted?: ReadonlyArray<ArchiveEntry>
}

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

const filesQueuedPerPartition = 4

/**
 * analytics-service's pipeline behind the consumer engine. Lifecycle events are appended, in offset
 * order per partition, to an open file per partition. A file rolls over at a size, at an age, when its
 * partition goes idle, and when the hour of event time changes. The first files after the partition was
 * assigned roll small and young, the limits doubling up to the full ones (`limitsOf`), so that a (re)start
 * commits within seconds however large the backlog it re-reads. A rolled file is, in order and per
 * partition: aggregated in a worker thread into per-seller deltas applied to the hot store (each write
 * conditional on the partition's watermark), encoded to gzipped NDJSON in a worker thread, uploaded
 * under a key derived from its partition and offsets, and only then are its records finished for the
 * engine's commit. An event published twice (same eventId, another record) is counted and archived
 * only for the record that claimed it first. After a crash, redelivered records that an uploaded object
 * already covers are finished at once: each event is in exactly one object.
 */
const makeArchive = Effect.gen(function*() {
  const settings = yield* ArchiveSettings
  const workers = yield* AnalyticsWorkers
  const store = yield* MetricsStore
  const objects = yield* ObjectStore
  const log = yield* EventLog
  // A scope of its own, made now: its fibers are stopped after whatever is built later in the
  // enclosing scope (the consumer, whose shutdown still needs them), and it accepts new fibers
  // while the enclosing scope is already closing.
  const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
  const schedule = retrySchedule(analyticsService.retry)

  const open = new Map<number, OpenFile>()
  /** Files opened per partition since it was assigned to this member: their roll limits ramp up. */
  const opened = new Map<number, number>()
  const queues = new Map<number, Queue.Queue<OpenFile>>()
  const inFlight = new Set<Deferred.Deferred<void>>()
  const done = new WeakMap<OpenFile, Deferred.Deferred<void>>()
  /** Offset ranges already uploaded, per `partition/hour`, loaded from the object store on first use. */
  const covered = new Map<string, Array<readonly [number, number]>>()

  const coverage = (partition: number, hour: string) =>
    Effect.suspend(() => {
      const key = `${partition}/${hour}`
      const known = covered.get(key)
      if (known !== undefined) return Effect.succeed(known)
      return objects.list(partitionPrefix(productEventsTopic, partition, hour)).pipe(
        Effect.map((summaries) => {
          const ranges = summaries.flatMap((s) => {
            const range = rangeOfKey(s.key)
            return range ? [range] : []
          })
          covered.set(key, ranges)
          return ranges
        })
      )
    })

  /** The file's events not already counted under another record (the same event published twice). */
  const firstSeen = (file: OpenFile) =>
    Effect.filter(
      file.entries,
      (e) => store.claim(e.event.data.sellerId, e.event.eventId, `${file.partition}:${e.record.offset}`),
      { concurrency: 32 }
    )

  const upload = (file: OpenFile) =>
    Effect.gen(function*() {
      if (file.dropped) return
      const first = file.entries[0]!.record.offset
      const last = file.entries[file.entries.length - 1]!.record.offset
      if (file.counted === undefined) {
        const seen = yield* firstSeen(file)
        if (seen.length > 0) yield* applyHot(workers, store, file.partition, seen)
        file.counted = seen
      }
      const entries = file.counted
      if (entries.length > 0) {
        const bytes = yield* workers.encodeArchive(entries.map((e) => JSON.stringify(e.json)))
        if (file.dropped) return
        const key = archiveKey(productEventsTopic, file.partition, file.hour, first, last)
        yield* objects.put(key, bytes, { contentType: "application/x-ndjson", contentEncoding: "gzip" })
      }
      covered.get(`${file.partition}/${file.hour}`)?.push([first, last])
    }).pipe(Effect.withSpan("AnalyticsArchive.upload", { attributes: { partition: file.partition, events: file.entries.length } }))

  const deadLetterAll = (file: OpenFile, error: unknown) =>
    Effect.gen(function*() {
      const failedAt = new Date(yield* Clock.currentTimeMillis)
      const failure = describeFailure(error)
      const messages = file.entries.map((e) =>
        deadLetterMessage(e.record, {
          reason: "retries-exhausted",
          error: failure.message,
          errorTag: failure.tag,
          attempts: analyticsService.retry.maxRetries + 1,
          group: analyticsService.group,
          failedAt
        })
      )
      yield* log.produce(deadLetterTopic(analyticsService.group), messages).pipe(
        Effect.retry(Schedule.spaced("5 seconds")),
        Effect.orDie
      )
      // A replay of these events (at other offsets) must be able to count them: give up their claims,
      // unless they are counted already (a defect after the hot store took them).
      if (file.counted === undefined) {
        yield* Effect.forEach(
          file.entries,
          (e) => store.release(e.event.data.sellerId, e.event.eventId, `${file.partition}:${e.record.offset}`),
          { concurrency: 32, discard: true }
        ).pipe(Effect.catchAll((e) => Effect.logWarning("claims of dead-lettered events not released", e)))
      }
      yield* Effect.logError(`dead-lettered ${messages.length} events of partition ${file.partition}`, error)
    })

  /**
   * Once the file's events are counted, dead-lettering them would count them again on replay: the
   * upload alone is left (same key, same bytes), retried until it succeeds, holding the partition back.
   */
  const keepUploading = (file: OpenFile) =>
    upload(file).pipe(
      Effect.tapError((e) => Effect.logError(`archive upload of partition ${file.partition} failing; counted already, retrying`, e)),
      Effect.retry({ schedule: Schedule.spaced(Duration.millis(analyticsService.retry.maxDelayMillis)), while: (e) => e.retriable })
    )

  const flush = (file: OpenFile) =>
    upload(file).pipe(
      Effect.retry({ schedule, while: (e) => e.retriable }),
      Effect.catchAll((e) => (file.counted !== undefined && e.retriable ? keepUploading(file) : Effect.fail(e))),
      // A defect (a bug, a worker that cannot decode) must not stop the partition's upload loop.
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause) ? Effect.failCause(cause) : deadLetterAll(file, Cause.squash(cause))
      ),
      Effect.tap(() => Effect.sync(() => file.finishers.forEach((finish) => finish()))),
      Effect.ensuring(settled(file))
    )

  const queueOf = (partition: number) =>
    Effect.suspend(() => {
      const existing = queues.get(partition)
      if (existing !== undefined) return Effect.succeed(existing)
      return Effect.gen(function*() {
        const queue = yield* Queue.bounded<OpenFile>(filesQueuedPerPartition)
        queues.set(partition, queue)
        // Interruptible even when first needed by the shutdown's (uninterruptible) final flush.
        yield* Queue.take(queue).pipe(Effect.flatMap(flush), Effect.forever, Effect.interruptible, Effect.forkIn(scope))
        return queue
      })
    })

  /** Files of each partition rolled and not yet settled (queued or uploading). */
  const pending = new Map<number, Set<OpenFile>>()

  const settled = (file: OpenFile) =>
    Effect.suspend(() => {
      pending.get(file.partition)?.delete(file)
      const deferred = done.get(file)!
      inFlight.delete(deferred)
      return Deferred.succeed(deferred, undefined)
    })

  const roll = (file: OpenFile) =>
    Effect.gen(function*() {
      if (file.rolled) return
      file.rolled = true
      if (open.get(file.partition) === file) open.delete(file.partition)
      const deferred = yield* Deferred.make<void>()
      done.set(file, deferred)
      inFlight.add(deferred)
      let files = pending.get(file.partition)
      if (files === undefined) pending.set(file.partition, files = new Set())
      files.add(file)
      yield* Queue.offer(yield* queueOf(file.partition), file).pipe(
        // Not queued after all (the lane was interrupted while the queue was full): nothing to wait for.
        Effect.onInterrupt(() => settled(file))
      )
    })

  /** Appends a lifecycle event; `finish` is called once it is in the hot store and in an uploaded object. */
  const append = Effect.fn("AnalyticsArchive.append")(function*(record: LogRecord, event: LifecycleEvent, finish: () => void) {
    const hour = hourOf(event.timestamp)
    const ranges = yield* coverage(record.partition, hour)
    if (ranges.some(([first, last]) => record.offset >= first && record.offset <= last)) return finish()
    const now = yield* Clock.currentTimeMillis
    let file = open.get(record.partition)
    if (file !== undefined && file.hour !== hour) {
      yield* roll(file)
      file = undefined
    }
    if (file === undefined) {
      const n = opened.get(record.partition) ?? 0
      opened.set(record.partition, n + 1)
      file = {
        partition: record.partition,
        hour,
        entries: [],
        finishers: [],
        openedAt: now,
        ...limitsOf(settings, n),
        lastAppendAt: now,
        bytes: 0,
        rolled: false,
        dropped: false
      }
      open.set(record.partition, file)
    }
    const json = encodeProductEvent(event) as LifecycleEventJson
    const line = JSON.stringify(json)
    file.entries.push({ record, event, json })
    file.finishers.push(finish)
    file.bytes += line.length + 1
    file.lastAppendAt = now
    if (file.bytes >= file.maxBytes) yield* roll(file)
  })

  const rollDue = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    for (const file of [...open.values()]) {
      if (
        now - file.openedAt >= file.maxAgeMillis ||
        now - file.lastAppendAt >= Duration.toMillis(settings.idleAfter)
      ) yield* roll(file)
    }
  })
  yield* rollDue.pipe(Effect.repeat(Schedule.spaced(settings.tick)), Effect.forkIn(scope))

  /** Rolls every open file and waits for all uploads: the consumer's last step before its final commit. */
  const flushAll = Effect.gen(function*() {
    for (const file of [...open.values()]) yield* roll(file)
    yield* Effect.forEach([...inFlight], Deferred.await, { discard: true })
  }).pipe(Effect.withSpan("AnalyticsArchive.flushAll"))

  /**
   * Forgets the files of revoked partitions, open or queued: their records will be consumed again by
   * their new owner. What this member knew of their uploaded objects is forgotten too (read again if
   * the partition comes back).
   */
  const drop = (partitions: ReadonlyArray<TopicPartition>) =>
    Effect.sync(() => {
      for (const { partition } of partitions) {
        const file = open.get(partition)
        if (file !== undefined) file.dropped = true
        open.delete(partition)
        opened.delete(partition)
        for (const queued of pending.get(partition) ?? []) queued.dropped = true
        for (const key of [...covered.keys()]) if (key.startsWith(`${partition}/`)) covered.delete(key)
      }
    })

  return { append, flushAll, drop } as const
})

/**
 * The archive as a service. Its background fibers live in the scope it is built in: a consumer that
 * settles deferred work in it at shutdown must be built after it and released before it (see app/Analytics.ts).
 */
export class AnalyticsArchive extends Effect.Service<AnalyticsArchive>()("product-events/AnalyticsArchive", {
  scoped: makeArchive
}) {}
