import { Deferred, Exit, FiberId } from "effect"
import { combine, type Delta, deltasBySeller, emptyDelta } from "../../domain/MetricsDelta.js"
import type { PendingMetrics } from "../../domain/PendingMetrics.js"
import type { HotBatch } from "./HotBatches.js"

interface Window {
  readonly batch: HotBatch
  /** Each seller's delta of `batch.entries[0, accumulated)`. */
  readonly deltas: Map<string, Delta>
  accumulated: number
  /** The sellers of `batch.entries[0, written)` had their pending records taken since. */
  written: number
}

/**
 * The hot path's pending view, without I/O: per partition, its hot batches not yet applied (the fold
 * windows: open, queued, or being applied), with each seller's delta of their events so far. `take`
 * answers the pending records (`PendingMetrics`) of the sellers whose events have waited `freshAfter`
 * since they were appended, for the store (`MetricsStore.putPending`): a seller's metrics then show an
 * event within about `freshAfter` whatever the time its batch takes to be applied.
 *
 * A record holds every window of the seller's partition not yet settled, since it replaces the one
 * before; a window given up on (its events dead-lettered) is left out of its sellers' records, written
 * again at the next `take`, and `settle` answers what completes once they are. The counts include
 * events that their batch will find are duplicates (the same event published twice): the batch then
 * moves the watermarks of the items that only they change (`markDuplicates`), so that the view leaves
 * them out once it is applied.
 */

/** What a `take` answers: the records to write, and what to complete once they are written. */
export interface Taken {
  readonly records: Array<PendingMetrics>
  readonly rewritten: Array<{ readonly partition: number; readonly done: Deferred.Deferred<void> }>
}
export class PendingWindows {
  private readonly partitions = new Map<number, Array<Window>>()
  /** Sellers whose record must be written again at the next `take`, by partition. */
  private readonly dirty = new Map<number, Set<string>>()
  /** Completed once the partition's dirty records are written. */
  private readonly rewrites = new Map<number, Array<Deferred.Deferred<void>>>()

  constructor(private readonly freshAfterMillis: number) {}

  /** A batch opened: its events are pending until it settles. */
  open(batch: HotBatch): void {
    let windows = this.partitions.get(batch.partition)
    if (windows === undefined) this.partitions.set(batch.partition, windows = [])
    windows.push({ batch, deltas: new Map(), accumulated: 0, written: 0 })
  }

  /**
   * A batch settled: applied, or `givenUp`. The records that may hold a batch given up on are written
   * again without it at the next `take`: the answer completes once they are (undefined when none may).
   */
  settle(batch: HotBatch, givenUp: boolean): Deferred.Deferred<void> | undefined {
    const windows = this.partitions.get(batch.partition)
    const index = windows?.findIndex((w) => w.batch === batch) ?? -1
    if (index < 0) return undefined
    const [window] = windows!.splice(index, 1)
    if (!givenUp || window!.accumulated === 0) return undefined
    // Any record written since may hold the window: those of its sellers of the events accumulated.
    this.markDirty(batch.partition, window!.batch.entries.slice(0, window!.accumulated).map((e) => e.event.data.sellerId))
    const rewritten = Deferred.unsafeMake<void>(FiberId.none)
    this.rewrites.get(batch.partition)!.push(rewritten)
    return rewritten
  }

  /** Records not written after all (the store failed): their sellers' are written at the next `take`. */
  retry({ records, rewritten }: Taken): void {
    for (const { partition, sellerId } of records) if (this.partitions.has(partition)) this.markDirty(partition, [sellerId])
    for (const { done, partition } of rewritten) {
      if (this.partitions.has(partition)) this.rewrites.get(partition)!.push(done)
      else Deferred.unsafeDone(done, Exit.void)
    }
  }

  private markDirty(partition: number, sellerIds: Iterable<string>): void {
    let sellers = this.dirty.get(partition)
    if (sellers === undefined) this.dirty.set(partition, sellers = new Set())
    if (!this.rewrites.has(partition)) this.rewrites.set(partition, [])
    for (const sellerId of sellerIds) sellers.add(sellerId)
  }

  /** A revoked partition: its records are its new owner's to write. */
  drop(partition: number): void {
    this.partitions.delete(partition)
    this.dirty.delete(partition)
    for (const done of this.rewrites.get(partition) ?? []) Deferred.unsafeDone(done, Exit.void)
    this.rewrites.delete(partition)
  }

  /** When the next record is due (epoch millis), or undefined while nothing waits to be written. */
  nextDue(): number | undefined {
    let due: number | undefined
    for (const [partition, windows] of this.partitions) {
      if ((this.dirty.get(partition)?.size ?? 0) > 0) return 0
      for (const { batch, written } of windows) {
        if (written < batch.entries.length) due = Math.min(due ?? Infinity, batch.appendedAt[written]! + this.freshAfterMillis)
      }
    }
    return due
  }

  /**
   * The records of the sellers with an event appended `freshAfter` before `now` or earlier, not taken
   * yet, and of the dirty ones; write them, then complete `rewritten` (or, failed, hand them to `retry`).
   */
  take(now: number): Taken {
    const records: Array<PendingMetrics> = []
    const rewritten: Array<{ readonly partition: number; readonly done: Deferred.Deferred<void> }> = []
    const appendedBy = now - this.freshAfterMillis
    for (const [partition, windows] of this.partitions) {
      const sellers = this.dirty.get(partition) ?? new Set<string>()
      this.dirty.delete(partition)
      for (const done of this.rewrites.get(partition) ?? []) rewritten.push({ partition, done })
      this.rewrites.delete(partition)
      for (const window of windows) {
        const { appendedAt, entries } = window.batch
        if (window.accumulated < entries.length) {
          const added = deltasBySeller(entries.slice(window.accumulated).map((e) => e.event))
          for (const sellerId in added) window.deltas.set(sellerId, combine(window.deltas.get(sellerId) ?? emptyDelta, added[sellerId]!))
          window.accumulated = entries.length
        }
        for (; window.written < entries.length && appendedAt[window.written]! <= appendedBy; window.written++) {
          sellers.add(entries[window.written]!.event.data.sellerId)
        }
      }
      for (const sellerId of sellers) {
        records.push({
          sellerId,
          partition,
          windows: windows.flatMap(({ batch, deltas }) => {
            const delta = deltas.get(sellerId)
            return delta === undefined ? [] : [{ fromOffset: batch.entries[0]!.record.offset, delta }]
          })
        })
      }
    }
    return { records, rewritten }
  }
}
