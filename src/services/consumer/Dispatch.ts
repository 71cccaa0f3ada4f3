import { Chunk, Effect } from "effect"
import { type ConsumerContract, subscribes } from "../../domain/Consumers.js"
import type { LogRecord } from "../EventLog.js"
import { exportsSpans } from "../SpanExport.js"
import type { EngineMetrics } from "./EngineMetrics.js"
import type { LaneBuffer } from "./LaneBuffer.js"
import { type EngineStats, laneOf } from "./Lanes.js"
import type { Revocations } from "./Revocations.js"
import type { Watermarks } from "./Watermark.js"
import { Work } from "./Work.js"

export interface DispatchOptions<R> {
  readonly contract: ConsumerContract
  readonly laneCount: number
  readonly watermarks: Watermarks
  readonly revocations: Revocations
  readonly counters: EngineMetrics
  readonly stats: EngineStats
  /** The buffer of a lane whose fiber is running, if any. */
  readonly buffer: (index: number) => LaneBuffer | undefined
  /** Starts a lane's fiber; its buffer. */
  readonly startLane: (index: number) => Effect.Effect<LaneBuffer, never, R>
  /**
   * Handles a record in the dispatcher, in plain code, when its lane holds nothing (so nothing of its
   * seller waits before it): true when that finished it (or its completion was deferred), false when
   * its lane must take it (its first attempt started, or to be dead-lettered). Absent where every
   * record goes through a lane (a chunk handler, or spans exported per segment).
   */
  readonly handleNow: ((work: Work) => boolean) | undefined
  /** Counts a record as done (watermark and metrics). */
  readonly done: (work: Work, deferred: boolean) => void
}

/**
 * Hands a chunk of records to their lanes, in record order, in plain code: tracked for the commit
 * watermark, skipped undecoded when the contract does not subscribe to their `eventType` header,
 * else handled at once if their lane is idle and the handler completes synchronously (`handleNow`),
 * or queued on the lane of their key. It waits (back-pressure) only on a full lane.
 */
export const makeDispatch = <R>(options: DispatchOptions<R>) => {
  const { contract, counters, done, laneCount, revocations, stats, watermarks } = options

  const dispatch = (records: ReadonlyArray<LogRecord>, handleNow: ((work: Work) => boolean) | undefined) => {
    const since = revocations.now
    let i = 0
    /** Queues a record on its lane; the rest of the chunk goes on once the lane has room. */
    const queue = (buffer: LaneBuffer, work: Work): Effect.Effect<void, never, R> =>
      buffer.push(work) ? loop() : Effect.zipRight(buffer.waitForRoom, Effect.suspend(loop))
    const loop = (): Effect.Effect<void, never, R> => {
      while (i < records.length) {
        const record = records[i++]!
        if (revocations.staleSince(record, since)) continue
        const header = record.headers["eventType"]
        if (header !== undefined && !subscribes(contract, header)) {
          watermarks.track(record).finish(record.offset)
          counters.skipped(header)
          continue
        }
        const index = laneOf(record.key, laneCount)
        const buffer = options.buffer(index)
        const work = new Work(record, watermarks.track(record), done)
        if (handleNow !== undefined && (buffer === undefined || buffer.idle) && handleNow(work)) continue
        stats.dispatched()
        if (buffer === undefined) return Effect.flatMap(options.startLane(index), (started) => queue(started, work))
        if (!buffer.push(work)) return Effect.zipRight(buffer.waitForRoom, Effect.suspend(loop))
      }
      counters.flush()
      return Effect.void
    }
    return loop()
  }

  const { handleNow } = options
  return (chunk: Chunk.Chunk<LogRecord>): Effect.Effect<void, never, R> =>
    handleNow === undefined
      ? Effect.suspend(() => dispatch(Chunk.toReadonlyArray(chunk), undefined))
      // A consumer span per segment is only had in a lane.
      : Effect.tracerWith((tracer) => dispatch(Chunk.toReadonlyArray(chunk), exportsSpans(tracer) ? undefined : handleNow))
}
