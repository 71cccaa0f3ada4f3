import { Effect } from "effect"
import { productEventsTopic } from "../../domain/Consumers.js"
import type { ObjectStore } from "../ObjectStore.js"
import { partitionPrefix, rangeOfKey } from "./ArchiveKeys.js"

/**
 * The offset ranges already uploaded, per partition and hour, read from the object store on first use
 * and kept up to date by this member's uploads: after a restart, a redelivered record that an object
 * already holds is not archived again.
 */
export const makeCoverage = (objects: typeof ObjectStore.Service) => {
  const covered = new Map<string, Array<readonly [number, number]>>()

  const rangesOf = (partition: number, hour: string) =>
    Effect.suspend(() => {
      const key = `${partition}/${hour}`
      const known = covered.get(key)
      if (known !== undefined) return Effect.succeed(known)
      return objects.list(partitionPrefix(productEventsTopic, partition, hour)).pipe(
        Effect.map((summaries) => {
          const ranges = summaries.flatMap((s) => {
            const range = rangeOfKey(s.key)
            return range ? [range] : []
          })
          covered.set(key, ranges)
          return ranges
        })
      )
    })

  const covers = (partition: number, hour: string, offset: number) =>
    Effect.map(rangesOf(partition, hour), (ranges) => ranges.some(([first, last]) => offset >= first && offset <= last))

  const add = (partition: number, hour: string, first: number, last: number): void => {
    covered.get(`${partition}/${hour}`)?.push([first, last])
  }

  /** Forgets a revoked partition's ranges: read again if it comes back. */
  const forget = (partition: number): void => {
    for (const key of [...covered.keys()]) if (key.startsWith(`${partition}/`)) covered.delete(key)
  }

  return { covers, add, forget } as const
}
