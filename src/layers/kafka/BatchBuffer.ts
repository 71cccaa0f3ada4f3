import { Chunk, Deferred, Effect, Exit, FiberId } from "effect"
import type { LogRecord } from "../../services/EventLog.js"

/** A fetched batch, from the group generation (join) it was fetched in. */
export interface Batch {
  readonly generation: number
  readonly records: Chunk.Chunk<LogRecord>
}

interface Offer {
  readonly batch: Batch
  readonly resolve: (queued: boolean) => void
}

/**
 * Whole fetched batches between kafkajs (promises) and the reader (a stream), bounded by records:
 * kafkajs's `eachBatch` waits while the buffer is full, which stops its fetching. A batch larger
 * than the bound is let in once the buffer is empty. One wake-up per batch, not per record.
 */
export class BatchBuffer {
  private readonly batches: Array<Batch> = []
  private readonly offers: Array<Offer> = []
  private records = 0
  private closed = false
  private reader: Deferred.Deferred<void> | undefined

  constructor(readonly capacity: number) {}

  /** Resolves true once the batch is queued; false if the buffer closed or `signal` aborted first. */
  offer(batch: Batch, signal: AbortSignal): Promise<boolean> {
    if (this.closed) return Promise.resolve(false)
    if (this.offers.length === 0 && this.fits(batch)) {
      this.enqueue(batch)
      return Promise.resolve(true)
    }
    return new Promise<boolean>((resolve) => {
      const offer: Offer = { batch, resolve }
      this.offers.push(offer)
      signal.addEventListener("abort", () => {
        const index = this.offers.indexOf(offer)
        if (index >= 0) {
          this.offers.splice(index, 1)
          resolve(false)
        }
      }, { once: true })
    })
  }

  /** The next batch, waiting for one. */
  readonly take: Effect.Effect<Batch> = Effect.suspend(() => {
    const batch = this.batches.shift()
    if (batch === undefined) return Effect.zipRight(Deferred.await(this.reader ??= Deferred.unsafeMake(FiberId.none)), this.take)
    this.records -= batch.records.length
    this.admit()
    return Effect.succeed(batch)
  })

  /** Refuses further offers and releases the waiting ones (not queued). */
  close(): void {
    this.closed = true
    for (const offer of this.offers.splice(0)) offer.resolve(false)
  }

  private fits(batch: Batch): boolean {
    return this.records === 0 || this.records + batch.records.length <= this.capacity
  }

  private enqueue(batch: Batch): void {
    this.batches.push(batch)
    this.records += batch.records.length
    if (this.reader !== undefined) {
      Deferred.unsafeDone(this.reader, Exit.void)
      this.reader = undefined
    }
  }

  private admit(): void {
    while (this.offers.length > 0 && this.fits(this.offers[0]!.batch)) {
      const offer = this.offers.shift()!
      this.enqueue(offer.batch)
      offer.resolve(true)
    }
  }
}
