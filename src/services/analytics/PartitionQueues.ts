import { Deferred, Effect, ExecutionStrategy, FiberMap, Queue, Scope } from "effect"
import type { PartitionUnit } from "./Entry.js"
import { queuedPerPartition } from "./Settings.js"

/**
 * Rolled units (hot batches, archive files) worked off per partition, in order, one at a time: one
 * fiber per partition in a `FiberMap`, taking from a bounded queue. `submit` waits while its
 * partition's queue is full (back-pressure on the consumer's lane).
 *
 * Its fibers live in a scope forked from the one it is built in, made now: they are stopped after
 * whatever is built later in the enclosing scope (the consumer, whose shutdown still needs them).
 */
export const makePartitionQueues = <A extends PartitionUnit>(
  work: (unit: A) => Effect.Effect<void>,
  /** Runs in the partition's fiber when its last submitted unit is worked off. */
  onIdle: (partition: number) => Effect.Effect<void> = () => Effect.void
) =>
  Effect.gen(function*() {
    const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const fibers = yield* FiberMap.make<number>().pipe(Scope.extend(scope))
    const queues = new Map<number, Queue.Queue<A>>()
    /** Units submitted and not yet worked off, per partition: each with what `awaitAll` waits on. */
    const pending = new Map<number, Map<A, Deferred.Deferred<void>>>()

    const settle = (unit: A) =>
      Effect.suspend(() => {
        const units = pending.get(unit.partition)
        const done = units?.get(unit)
        units?.delete(unit)
        return done === undefined ? Effect.void : Deferred.succeed(done, undefined)
      })

    /** Whether the partition has units submitted and not yet worked off. */
    const busy = (partition: number): boolean => (pending.get(partition)?.size ?? 0) > 0

    const queueOf = (partition: number) =>
      Effect.suspend(() => {
        const existing = queues.get(partition)
        if (existing !== undefined) return Effect.succeed(existing)
        return Effect.gen(function*() {
          const queue = yield* Queue.bounded<A>(queuedPerPartition)
          queues.set(partition, queue)
          // Interruptible even when first needed by the shutdown's (uninterruptible) final flush.
          yield* FiberMap.run(
            fibers,
            partition,
            Queue.take(queue).pipe(
              Effect.flatMap((unit) =>
                Effect.ensuring(work(unit), settle(unit)).pipe(
                  // A defect in one unit must not stop the partition's loop (the lane would wait on its queue for ever),
                  // nor an interruption within it: this fiber's own interruption never reaches a handler (it is interruptible).
                  Effect.catchAllCause((cause) => Effect.logError(`partition ${partition}: a unit failed`, cause)),
                  Effect.zipRight(Effect.suspend(() => (busy(partition) ? Effect.void : onIdle(partition))))
                )
              ),
              Effect.forever,
              Effect.interruptible
            )
          )
          return queue
        })
      })

    const submit = (unit: A) =>
      Effect.gen(function*() {
        let units = pending.get(unit.partition)
        if (units === undefined) pending.set(unit.partition, units = new Map())
        units.set(unit, yield* Deferred.make<void>())
        yield* Queue.offer(yield* queueOf(unit.partition), unit).pipe(
          // Not queued after all (the lane was interrupted while the queue was full): nothing to wait for.
          Effect.onInterrupt(() => settle(unit))
        )
      })

    /** Waits until every unit submitted so far is worked off. */
    const awaitAll = Effect.suspend(() =>
      Effect.forEach([...pending.values()].flatMap((units) => [...units.values()]), Deferred.await, { discard: true })
    )

    /** Marks the partition's queued units dropped: worked off without effect. */
    const drop = (partition: number): ReadonlyArray<A> => {
      const units = [...(pending.get(partition)?.keys() ?? [])]
      for (const unit of units) unit.dropped = true
      return units
    }

    return { submit, awaitAll, drop, busy } as const
  })
