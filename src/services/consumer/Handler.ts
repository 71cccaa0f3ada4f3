import { Effect, Exit } from "effect"
import type { ProductEvent } from "../../domain/ProductEvent.js"
import type { LogRecord } from "../EventLog.js"
import type { Defer } from "./Work.js"

/** A consumer's handler of one record: the engine's per-record entry point, used for retries too. */
export type Handle<E, R> = (event: ProductEvent, record: LogRecord, defer: Defer) => Effect.Effect<void, E, R>

/** One record of a chunk handed to `handleChunk`. */
export interface ChunkItem {
  readonly event: ProductEvent
  readonly record: LogRecord
  readonly defer: Defer
}

/**
 * What `handleChunk` returns: one entry per item, in order. An item's `Exit`, `undefined` for an
 * item it did not attempt because an earlier item of the same key (seller) failed (the engine then
 * handles it after that failure, in order, behind the seller's retries), or `null` for an item of a
 * partition revoked meanwhile (`dropped`), which is left alone.
 */
export type ChunkResults<E> = ReadonlyArray<Exit.Exit<void, E> | undefined | null>

/**
 * A chunk-level entry point: handles a lane's records at once (e.g. one batched store write and one
 * pipelined publish), each key's records in their order. Its failures are retried record by record
 * through the per-record handler.
 */
export type HandleChunk<E, R> = (
  items: ReadonlyArray<ChunkItem>,
  /** Whether an item's partition was revoked since the chunk was prepared: skip it (`null`). */
  dropped: (item: ChunkItem) => boolean
) => Effect.Effect<ChunkResults<E>, never, R>

/**
 * `handleChunk` for a per-record handler: the items one after another, in plain code while the
 * handler's effects are already complete (`Effect.void`, `Effect.fail`), a fiber step otherwise.
 * It stops at the first failure (the rest unattempted), so the lane settles that failure (parks
 * its seller, or waits for a slot) before it goes on, as it would record by record. `dropped`
 * items (a revoked partition's) are skipped and reported as `null`.
 */
export const handleEach = <E, R>(
  handle: Handle<E, R>,
  dropped: (item: ChunkItem) => boolean
) =>
(items: ReadonlyArray<ChunkItem>): Effect.Effect<Array<Exit.Exit<void, E> | undefined | null>, never, R> =>
  Effect.suspend(() => {
    const results = new Array<Exit.Exit<void, E> | undefined | null>(items.length)
    let i = 0
    const step = (): Effect.Effect<Array<Exit.Exit<void, E> | undefined | null>, never, R> => {
      while (i < items.length) {
        const item = items[i]!
        if (dropped(item)) {
          results[i++] = null
          continue
        }
        const effect = handle(item.event, item.record, item.defer)
        if (!Exit.isExit(effect)) return Effect.flatMap(Effect.exit(effect), resume)
        if (!record(effect as Exit.Exit<void, E>)) return Effect.succeed(results)
      }
      return Effect.succeed(results)
    }
    /** False after a failure: the rest stays unattempted. */
    const record = (exit: Exit.Exit<void, E>): boolean => {
      results[i++] = exit
      return exit._tag === "Success"
    }
    const resume = (exit: Exit.Exit<void, E>) => (record(exit) ? step() : Effect.succeed(results))
    return step()
  })
