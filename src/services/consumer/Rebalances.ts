import { Effect, Stream } from "effect"
import type { Subscription, TopicPartition } from "../EventLog.js"
import type { Metrics } from "../Metrics.js"
import type { EngineMetrics } from "./EngineMetrics.js"
import type { Revocations } from "./Revocations.js"
import type { PartitionWatermark, Watermarks } from "./Watermark.js"

/**
 * Follows the subscription's rebalances, one at a time. An assignment lets the consumer drop state
 * another owner may have made stale (`onAssign`), then lets its partitions' records in again. A
 * revocation stops their records (dropped wherever they are: queued, in hand, retrying),
 * lets the consumer drop their deferred work (`onRevoke`), then commits their finished prefix and
 * forgets their watermarks: another member goes on from there.
 */
export const followRebalances = (options: {
  readonly subscription: Subscription
  readonly revocations: Revocations
  readonly watermarks: Watermarks
  readonly counters: EngineMetrics
  readonly metrics: Metrics
  readonly group: string
  readonly commit: (marks: ReadonlyArray<PartitionWatermark>) => Effect.Effect<void>
  readonly onRevoke: ((partitions: ReadonlyArray<TopicPartition>) => Effect.Effect<void>) | undefined
  readonly onAssign: ((partitions: ReadonlyArray<TopicPartition>) => Effect.Effect<void>) | undefined
}): Effect.Effect<void> => {
  const { counters, group, metrics, revocations, watermarks } = options

  const revoke = (partitions: ReadonlyArray<TopicPartition>) =>
    Effect.gen(function*() {
      revocations.revoke(partitions)
      const marks = partitions.flatMap((tp) => {
        const mark = watermarks.get(tp.topic, tp.partition)
        return mark === undefined ? [] : [mark]
      })
      if (options.onRevoke) yield* options.onRevoke(partitions)
      counters.flush()
      yield* options.commit(marks)
      for (const mark of marks) {
        mark.revoked = true
        watermarks.forget(mark)
      }
      // Another member reports these partitions' lag now.
      for (const tp of partitions) metrics.lag.remove({ group, partition: String(tp.partition) })
    })

  return Stream.runForEach(options.subscription.rebalances, (rebalance) =>
    rebalance._tag === "Revoked"
      ? revoke(rebalance.partitions)
      : Effect.zipRight(options.onAssign?.(rebalance.partitions) ?? Effect.void, Effect.sync(() => revocations.assign(rebalance.partitions))))
}
