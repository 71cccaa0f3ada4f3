import { Cause, Clock, Deferred, Duration, Effect, Schedule } from "effect"
import { analyticsService, productEventsTopic, retrySchedule } from "../../domain/Consumers.js"
import { hourOf } from "../../domain/MetricsDelta.js"
import { AnalyticsWorkers } from "../../workers/AnalyticsWorkers.js"
import { type ConsumerFailure, deadLetterReason, describeCause, sendDeadLetters } from "../DeadLetters.js"
import { EventLog } from "../EventLog.js"
import { ObjectStore } from "../ObjectStore.js"
import { type ArchiveFile, ArchiveFiles } from "./ArchiveFiles.js"
import { archiveKey } from "./ArchiveKeys.js"
import { makeCoverage } from "./Coverage.js"
import { withBatchSpan } from "../SpanExport.js"
import { type Entry, pathDone, type Settles, tracesOf } from "./Entry.js"
import { makePartitionQueues } from "./PartitionQueues.js"
import { ArchiveSettings } from "./Settings.js"

/**
 * The cold path: raw events as gzipped NDJSON, one object per rolled file (`ArchiveFiles`), under a
 * key derived from its partition and offsets, so that a re-upload after a crash writes the same key
 * with the same bytes; files of a partition are uploaded one after another, encoded in a worker thread.
 *
 * A file holds the events its records count (`hot === "counted"`): an event published twice is in the
 * object of the record that counts it, a dead-lettered one in the object of its replay. So a rolled
 * file first waits for the hot batches of its events to settle (within about a second: batches roll
 * much sooner than files). Upload failures are retried by the analytics policy and then on, never
 * dead-lettered (the events are counted: a replay would not archive them); only a failure that no retry
 * can fix (a defect) dead-letters the file's events.
 */
export const makeColdPath = (
  /** Rolls the partition's open hot batch unless one is being applied: a rolled file's events need not wait for its timer. */
  rollHot: (partition: number) => Effect.Effect<void>
) => Effect.gen(function*() {
  const settings = yield* ArchiveSettings
  const workers = yield* AnalyticsWorkers
  const objects = yield* ObjectStore
  const log = yield* EventLog
  const files = new ArchiveFiles(settings)
  const coverage = makeCoverage(objects)
  const policy = analyticsService.retry

  const hotSettled = (file: ArchiveFile) => {
    const batches = new Set<Settles>()
    for (const entry of file.entries) if (entry.batch !== undefined) batches.add(entry.batch)
    return Effect.forEach(batches, (batch) => Deferred.await(batch.settled), { discard: true })
  }

  const upload = (file: ArchiveFile, counted: ReadonlyArray<Entry>) =>
    Effect.gen(function*() {
      const first = file.entries[0]!.record.offset
      const last = file.entries[file.entries.length - 1]!.record.offset
      if (counted.length > 0) {
        const bytes = yield* workers.encodeArchive(counted.map((e) => e.line))
        if (file.dropped) return
        const key = archiveKey(productEventsTopic, file.partition, file.hour, first, last)
        yield* objects.put(key, bytes, { contentType: "application/x-ndjson", contentEncoding: "gzip" })
      }
      coverage.add(file.partition, file.hour, first, last)
    }).pipe(withBatchSpan("ColdPath.upload", { partition: file.partition, events: counted.length }, () => tracesOf(counted)))

  const deadLetter = (file: ArchiveFile, counted: ReadonlyArray<Entry>, cause: Cause.Cause<ConsumerFailure>) =>
    Effect.gen(function*() {
      const failure = describeCause(cause)
      yield* sendDeadLetters(log, analyticsService.group, counted.map((e) => e.record), {
        reason: deadLetterReason(cause),
        error: failure.message,
        errorTag: failure.tag,
        attempts: 1,
        failedAt: new Date(yield* Clock.currentTimeMillis)
      })
      yield* Effect.logError(`archive of partition ${file.partition} failed; dead-lettered ${counted.length} events`, cause)
    })

  const work = (file: ArchiveFile) =>
    Effect.gen(function*() {
      yield* hotSettled(file)
      if (file.dropped) return
      const counted = file.entries.filter((e) => e.hot === "counted")
      yield* upload(file, counted).pipe(
        Effect.retry({ schedule: retrySchedule(policy), while: (e) => e.retriable }),
        Effect.tapError((e) => Effect.logError(`archive upload of partition ${file.partition} failing; retrying`, e)),
        Effect.retry({ schedule: Schedule.spaced(Duration.millis(policy.maxDelayMillis)), while: (e) => e.retriable }),
        // A failure no retry can fix (a bug, a worker that cannot encode) must not stop the partition's
        // uploads: the events are dead-lettered, retried until they are out (`sendDeadLetters`), and only
        // then is the file finished. An interruption within the upload leaves it unfinished (its records
        // come again after a restart); `PartitionQueues` logs it and goes on.
        Effect.catchAllCause((cause) =>
          Cause.isInterruptedOnly(cause) ? Effect.failCause(Cause.stripFailures(cause)) : deadLetter(file, counted, cause)
        )
      )
      if (!file.dropped) for (const entry of file.entries) pathDone(entry)
    })

  const queues = yield* makePartitionQueues(work)
  const submit = (file: ArchiveFile) => Effect.zipRight(rollHot(file.partition), queues.submit(file))

  /** Whether an uploaded object already holds the record (after a restart): then it is not archived again. */
  const covered = (entry: Entry) => coverage.covers(entry.record.partition, hourOf(entry.event.timestamp), entry.record.offset)

  /** Appends an event (not `covered`) to its partition's file, rolling what is due. */
  const append = (entry: Entry, now: number) =>
    Effect.forEach(files.append(entry, hourOf(entry.event.timestamp), now), submit, { discard: true })

  const rollDue = Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.forEach(files.due(now), submit, { discard: true }))

  const flushAll = Effect.suspend(() => Effect.forEach(files.rollAll(), submit, { discard: true })).pipe(
    Effect.zipRight(queues.awaitAll)
  )

  const drop = (partition: number) =>
    Effect.sync(() => {
      files.drop(partition)
      queues.drop(partition)
      coverage.forget(partition)
    })

  return { covered, append, rollDue, flushAll, drop, tick: settings.tick } as const
})
