import { Effect } from "effect"
import { productEventsTopic } from "../../domain/Consumers.js"
import type { EventLog, Subscription } from "../EventLog.js"
import type { Metrics } from "../Metrics.js"
import type { PartitionWatermark, Watermarks } from "./Watermark.js"

/**
 * The engine's commits: each partition's finished prefix (periodically, on revocation, at shutdown),
 * one commit at a time; and the lag gauge, from the partitions' end offsets and what was committed.
 */
export const makeCommits = (options: {
  readonly log: EventLog["Type"]
  readonly subscription: Subscription
  readonly watermarks: Watermarks
  readonly metrics: Metrics
  readonly group: string
}) =>
  Effect.map(Effect.makeSemaphore(1), (lock) => {
    const { group, log, metrics, subscription, watermarks } = options

    /** Commits what moved, for the given partitions (default: all); a failure is logged, and the next commit carries it. */
    const commit = (marks?: ReadonlyArray<PartitionWatermark>) =>
      lock.withPermits(1)(Effect.suspend(() => {
        const offsets = watermarks.due(marks)
        if (offsets.length === 0) return Effect.void
        return subscription.commit(offsets).pipe(Effect.tap(() => watermarks.markCommitted(offsets)))
      })).pipe(
        Effect.catchAll((e) => Effect.logWarning("commit failed; the next one will carry it", e)),
        Effect.withSpan("ConsumerEngine.commit")
      )

    const updateLag = log.endOffsets(productEventsTopic).pipe(
      Effect.map((ends) => {
        for (const end of ends) {
          const mark = watermarks.get(end.topic, end.partition)
          if (mark !== undefined && mark.committed >= 0) {
            metrics.lag.set({ group, partition: String(end.partition) }, Math.max(0, end.offset - mark.committed))
          }
        }
      }),
      Effect.catchAll((e) => Effect.logDebug("lag not updated", e))
    )

    return { commit, updateLag }
  })
