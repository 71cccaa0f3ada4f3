import { Deferred, FiberId } from "effect"
import type { Entry, PartitionUnit, Settles } from "./Entry.js"
import type { HotSettings } from "./Settings.js"

/** A micro-batch of one partition's events, in offset order, for the hot store. */
export interface HotBatch extends PartitionUnit, Settles {
  readonly entries: Array<Entry>
  /** When each entry was appended (`entries[i]` at `appendedAt[i]`). */
  readonly appendedAt: Array<number>
  readonly openedAt: number
  /** Due as soon as its partition is idle (its age reached, or an archive file waits for it). */
  wanted: boolean
}

/**
 * The hot path's buffer and roll policy, without I/O: one open batch per partition, rolled at
 * `maxEvents` events or (by the caller's timer, `roll`) `maxWait` after its first event, whichever
 * comes first. Each method returns what it rolled, for the caller to apply; a batch is rolled once.
 */
export class HotBatches {
  private readonly open = new Map<number, HotBatch>()

  constructor(private readonly settings: HotSettings) {}

  /** The entry's batch, `opened` by it (time its age from now), and `full` (rolled) with it. */
  append(entry: Entry, now: number): { readonly batch: HotBatch; readonly opened: boolean; readonly full: boolean } {
    const { partition } = entry.record
    let batch = this.open.get(partition)
    const opened = batch === undefined
    if (batch === undefined) {
      batch = { partition, entries: [], appendedAt: [], openedAt: now, wanted: false, dropped: false, settled: Deferred.unsafeMake<void>(FiberId.none) }
      this.open.set(partition, batch)
    }
    batch.entries.push(entry)
    batch.appendedAt.push(now)
    entry.batch = batch
    const full = batch.entries.length >= this.settings.maxEvents
    if (full) this.open.delete(partition)
    return { batch, opened, full }
  }

  /** Rolls the partition's open batch (its age reached, or the archive needs its events settled), if it is `only` that one. */
  roll(partition: number, only?: HotBatch): HotBatch | undefined {
    const batch = this.open.get(partition)
    if (batch === undefined || (only !== undefined && batch !== only)) return undefined
    this.open.delete(partition)
    return batch
  }

  /** The partition's open batch, if any. */
  peek(partition: number): HotBatch | undefined {
    return this.open.get(partition)
  }

  rollAll(): Array<HotBatch> {
    const rolled = [...this.open.values()]
    this.open.clear()
    return rolled
  }

  /** Forgets a revoked partition's open batch; returns it (dropped) so that what waits on it can go on. */
  drop(partition: number): HotBatch | undefined {
    const batch = this.open.get(partition)
    if (batch !== undefined) batch.dropped = true
    this.open.delete(partition)
    return batch
  }
}
