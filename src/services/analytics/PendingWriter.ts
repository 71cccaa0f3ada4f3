import { Clock, Deferred, Duration, Effect, Exit, Queue } from "effect"
import { MetricsStore } from "../MetricsStore.js"
import type { HotBatch } from "./HotBatches.js"
import { PendingWindows } from "./PendingWindows.js"
import { HotSettings } from "./Settings.js"

/**
 * The hot path's pending records (`PendingWindows`), written by one loop, so that a seller's writes
 * never overtake each other: the records that are due (an event appended `freshAfter` ago, or within
 * the next `freshAfter / 2`, so a seller's record is written at most about twice a `freshAfter`), then
 * a pause until `freshAfter / 2` after the write began. A failed write hands its sellers back: their
 * records are built again from the current windows at the next write, after a pause that doubles
 * with each failure in a row (up to 10 s). The loop sleeps while nothing waits, until an event comes
 * or a batch is given up on.
 */
export const makePendingWriter = Effect.gen(function*() {
  const settings = yield* HotSettings
  const store = yield* MetricsStore
  const windows = new PendingWindows(Duration.toMillis(settings.freshAfter))
  const pause = Duration.toMillis(settings.freshAfter) / 2
  const wake = yield* Queue.sliding<void>(1)
  /** The loop waits for an event: the next one wakes it (and only then, not every one). */
  let idle = false

  /** Writes failed in a row: the loop backs off (`pause` doubling, up to `maxBackOff`) and warns once a run. */
  let failures = 0
  const maxBackOff = 10_000

  const writeDue = Effect.gen(function*() {
    const due = windows.nextDue()
    if (due === undefined) {
      idle = true
      return yield* Queue.take(wake)
    }
    const now = yield* Clock.currentTimeMillis
    if (due > now + pause) return yield* Effect.raceFirst(Effect.sleep(Duration.millis(due - now - pause)), Queue.take(wake))
    const taken = windows.take(now + pause)
    const written = taken.records.length === 0 ? Exit.void : yield* Effect.exit(store.putPending(taken.records))
    if (Exit.isSuccess(written)) {
      if (failures > 0) yield* Effect.logInfo(`pending metrics written again after ${failures} failed writes`)
      failures = 0
      for (const { done } of taken.rewritten) Deferred.unsafeDone(done, Exit.void)
    } else {
      windows.retry(taken)
      if (failures++ === 0) yield* Effect.logWarning("pending metrics not written; they will be written again", written.cause)
    }
    const wait = Math.min(pause * 2 ** Math.min(failures, 20), Math.max(pause, maxBackOff))
    const elapsed = (yield* Clock.currentTimeMillis) - now
    if (elapsed < wait) yield* Effect.sleep(Duration.millis(wait - elapsed))
  })
  yield* Effect.forkScoped(Effect.forever(
    writeDue.pipe(Effect.catchAllCause((cause) => Effect.logError("pending metrics writer", cause)))
  ))

  return {
    /** A batch opened: its events are pending until it settles. */
    opened: (batch: HotBatch): void => windows.open(batch),
    /** An event was appended to an open batch. */
    appended: (): void => {
      if (!idle) return
      idle = false
      Queue.unsafeOffer(wake, undefined)
    },
    /**
     * A batch settled (applied, or `givenUp`): given up on, it waits until the records that may hold it
     * are written again without it, so that its events are committed only once the view leaves them out.
     */
    settle: (batch: HotBatch, givenUp: boolean): Effect.Effect<void> =>
      Effect.suspend(() => {
        const rewritten = windows.settle(batch, givenUp)
        if (rewritten === undefined) return Effect.void
        Queue.unsafeOffer(wake, undefined)
        return Deferred.await(rewritten)
      }),
    /** A revoked partition: its records are its new owner's to write. */
    drop: (partition: number): void => windows.drop(partition)
  } as const
})
