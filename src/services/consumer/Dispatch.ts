import { Chunk, Effect } from "effect"
import { type ConsumerContract, subscribes } from "../../domain/Consumers.js"
import type { LogRecord } from "../EventLog.js"
import type { EngineMetrics } from "./EngineMetrics.js"
import { eventTypeLabel } from "./EngineMetrics.js"
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
  /** The lane's buffer, its fiber started on first use. */
  readonly lane: (index: number) => LaneBuffer | Effect.Effect<LaneBuffer, never, R>
  /** Counts a record as done (watermark and metrics). */
  readonly done: (work: Work, deferred: boolean) => void
}

/**
 * Hands a chunk of records to their lanes, in record order, in plain code: tracked for the commit
 * watermark, skipped undecoded when the contract does not subscribe to their `eventType` header,
 * else queued on the lane of their key. It waits (back-pressure) only on a full lane.
 */
export const makeDispatch = <R>(options: DispatchOptions<R>) => {
  const { contract, counters, done, laneCount, revocations, stats, watermarks } = options
  return (chunk: Chunk.Chunk<LogRecord>): Effect.Effect<void, never, R> => {
    const records = Chunk.toReadonlyArray(chunk)
    const since = revocations.now
    let i = 0
    const loop = (): Effect.Effect<void, never, R> => {
      while (i < records.length) {
        const record = records[i]!
        if (revocations.staleSince(record, since)) {
          i++
          continue
        }
        const eventType = record.headers["eventType"]
        if (eventType !== undefined && !subscribes(contract, eventType)) {
          i++
          watermarks.track(record).finish(record.offset)
          counters.skipped(eventTypeLabel(record))
          continue
        }
        const lane = options.lane(laneOf(record.key, laneCount))
        if (Effect.isEffect(lane)) return Effect.flatMap(lane, loop)
        i++
        stats.dispatched()
        if (!lane.push(new Work(record, watermarks.track(record), done))) return Effect.zipRight(lane.waitForRoom, Effect.suspend(loop))
      }
      counters.flush()
      return Effect.void
    }
    return Effect.suspend(loop)
  }
}
