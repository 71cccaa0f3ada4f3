import { Clock, Data, Effect } from "effect"

/**
 * Token buckets by key: each holds up to `burst` tokens and gains `ratePerSecond` a second; a call
 * costing `cost` takes that many, or is refused (taking nothing) with the seconds until it would pass.
 * A cost above `burst` passes on a full bucket and leaves it in debt, so a large batch is never refused
 * forever and the rate still holds over time.
 *
 * At most `maxKeys` buckets are kept, least recently used first: a bucket that has refilled is the same
 * as no bucket, so idle ones are dropped as calls come (and the oldest when the map is full).
 * Plain code, per process: see README "Security" for sharing limits across processes.
 */

export class RateLimited extends Data.TaggedError("RateLimited")<{
  /** Whole seconds until the refused cost would pass (at least 1). */
  readonly retryAfterSeconds: number
}> {}

export interface RateLimiterOptions {
  readonly ratePerSecond: number
  readonly burst: number
  readonly maxKeys: number
}

export interface RateLimiter {
  readonly take: (key: string, cost: number) => Effect.Effect<void, RateLimited>
  /** Buckets held now. */
  readonly size: () => number
}

interface Bucket {
  readonly tokens: number
  readonly updatedAt: number
}

export const make = (options: RateLimiterOptions): RateLimiter => {
  const { burst, maxKeys, ratePerSecond } = options
  const buckets = new Map<string, Bucket>()
  const tokensAt = (bucket: Bucket, now: number) =>
    Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.updatedAt) * ratePerSecond) / 1000)

  const evictIdle = (now: number) => {
    for (const [key, bucket] of buckets) {
      if (buckets.size > maxKeys || tokensAt(bucket, now) >= burst) buckets.delete(key)
      else return
    }
  }

  const decide = (key: string, cost: number, now: number): number | undefined => {
    const bucket = buckets.get(key)
    // Deleted and set again: the map's order is least recently used first.
    buckets.delete(key)
    const tokens = bucket === undefined ? burst : tokensAt(bucket, now)
    const needed = Math.min(cost, burst)
    const refused = tokens < needed
    buckets.set(key, { tokens: refused ? tokens : tokens - cost, updatedAt: now })
    evictIdle(now)
    return refused ? Math.max(1, Math.ceil((needed - tokens) / ratePerSecond)) : undefined
  }

  return {
    take: (key, cost) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const retryAfterSeconds = decide(key, cost, now)
        return retryAfterSeconds === undefined ? Effect.void : Effect.fail(new RateLimited({ retryAfterSeconds }))
      }),
    size: () => buckets.size
  }
}
