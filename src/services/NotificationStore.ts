import { Config, Context, Duration, type Effect, type Exit, type Option } from "effect"
import type { Notification, StoredNotification } from "../domain/Notification.js"
import { InfraError } from "./InfraError.js"

/**
 * Stored notifications, per seller, in consumption order. In memory (`layers/NotificationStoreMemory.ts`)
 * and on DynamoDB: one item per notification (key sellerId + id), written with `attribute_not_exists(id)`
 * by `put`, read first and then written in batches by `putMany`; a local secondary index on `seq` for
 * ordered queries, and a per-seller counter item incremented with `UpdateItem ADD` to draw `seq`s, a block at a time.
 *
 * Retention: a notification expires `NOTIFICATION_RETENTION` after it was stored; from then on it is
 * neither served (get, list) nor a duplicate (a later put of its id stores it anew, with a new seq).
 * DynamoDB deletes expired items by TTL where the endpoint supports it; the memory store drops them.
 */

export interface ListOptions {
  /** Only notifications with `seq > afterSeq`. */
  readonly afterSeq?: number
  /** Only notifications with `seq < beforeSeq`. */
  readonly beforeSeq?: number
  /** At most this many; 0 or less returns nothing. */
  readonly limit: number
  /** By seq: "asc" returns the oldest first (of the range), "desc" the newest first. */
  readonly order: "asc" | "desc"
}

export interface PutResult {
  readonly notification: StoredNotification
  /** false when a notification with this id was stored already: then nothing changed. */
  readonly created: boolean
  /**
   * true when the id was stored already from other content (another event under the same eventId):
   * a conflict, not a redelivery. Known only when both puts gave a content hash.
   */
  readonly conflict: boolean
}

/** The content hashes of a stored notification and of a new put of its id differ: another event reused the eventId. */
export const isConflict = (storedHash: unknown, contentHash: string | undefined): boolean =>
  typeof storedHash === "string" && contentHash !== undefined && storedHash !== contentHash

/**
 * One result of `putMany` per notification: its put's outcome, or `undefined` when an earlier
 * notification of the same seller failed, so this one was not attempted (its seq must follow).
 */
export type PutManyResults = ReadonlyArray<Exit.Exit<PutResult, NotificationStoreError> | undefined>
/** How long a notification is kept unless configured (`NOTIFICATION_RETENTION`). */
export const defaultNotificationRetention = Duration.days(30)
export const notificationRetentionConfig = Config.duration("NOTIFICATION_RETENTION").pipe(
  Config.withDefault(defaultNotificationRetention)
)
/** The expiry, epoch seconds (DynamoDB's TTL unit), of a notification stored at `nowMillis`. */
export const notificationExpiry = (nowMillis: number, retention: Duration.Duration): number =>
  Math.floor(nowMillis / 1000) + Math.ceil(Duration.toSeconds(retention))
/** A notification has expired once its expiry second has begun: it is not served any more. */
export const notificationExpired = (expiresAt: number, nowMillis: number): boolean => expiresAt * 1000 <= nowMillis

export class NotificationStoreError extends InfraError("NotificationStoreError", "notification store") {}

export class NotificationStore extends Context.Tag("product-events/NotificationStore")<
  NotificationStore,
  {
    /**
     * Stores the notification once per (sellerId, id). The first put assigns the seller's next `seq`
     * (increasing in put order; the live store may leave gaps after a crash, a concurrent duplicate or
     * `forgetDrawnSeqs`).
     * A later put of the same id returns the stored notification unchanged, with `created: false`,
     * and `conflict: true` when `contentHash` (a hash of the event the notification comes from) differs
     * from the one stored with it.
     */
    readonly put: (notification: Notification, contentHash?: string) => Effect.Effect<PutResult, NotificationStoreError>
    /**
     * `put` of each notification, batched: each seller's notifications in the order given (their
     * seqs follow it), different sellers together. A seller's first failure stops its later
     * notifications (`undefined`, and none of them stored); other sellers go on. An id given twice is
     * stored once, the repeat answered as a later `put` of it. `skip`, asked of each notification to be
     * written (not of one stored already) when its turn comes, stops it and its seller's later ones
     * (`undefined`, none of them stored): the caller's partition was revoked meanwhile, and its new
     * owner writes them.
     *
     * Precondition (callers without it use `put`): no other `put` or `putMany` of the same seller runs
     * meanwhile. The live store reads which ids are stored, then writes the new ones with BatchWriteItem,
     * which takes no condition: two concurrent writers of one id would both store it, the last seq
     * winning. notification-service meets it: a seller's events are on one partition, handled by its
     * owner, chunk after chunk, and a chunk whose partition is revoked stops at its next wave (`skip`).
     * What is left is a window of one wave (its requests, and their retries of unprocessed items): a
     * write already sent when the partition moves may land after the new owner wrote the same
     * notification (then both published it, clients drop the repeat by id, and the stored seq is the
     * last written); and a member evicted by the group while still writing, which already breaks seq
     * order by writing from its old block of seqs.
     */
    readonly putMany: (
      notifications: ReadonlyArray<Notification>,
      contentHashes?: ReadonlyArray<string | undefined>,
      skip?: (index: number) => boolean
    ) => Effect.Effect<PutManyResults>
    readonly get: (
      sellerId: string,
      id: string
    ) => Effect.Effect<Option.Option<StoredNotification>, NotificationStoreError>
    /** A page of the seller's notifications ordered by `seq`. */
    readonly list: (
      sellerId: string,
      options: ListOptions
    ) => Effect.Effect<ReadonlyArray<StoredNotification>, NotificationStoreError>
    /**
     * Forgets the seqs drawn ahead and not handed out yet (the live store draws a seller's seqs in
     * blocks): the consumer calls it whenever its partitions are revoked or assigned. A seller whose partition
     * moved to another owner and back must not get a seq drawn before that owner's, which would place
     * its new notification before ones stored earlier. Forgotten seqs are gaps.
     */
    readonly forgetDrawnSeqs: Effect.Effect<void>
    /** Reachable and serving: for readiness probes. */
    readonly ping: Effect.Effect<void, NotificationStoreError>
  }
>() {}
