import { Context, type Effect, type Exit, type Option } from "effect"
import type { Notification, StoredNotification } from "../domain/Notification.js"
import { InfraError } from "./InfraError.js"

/**
 * Stored notifications, per seller, in consumption order. In memory (`layers/NotificationStoreMemory.ts`)
 * and on DynamoDB: one item per notification (key sellerId + id) written with
 * `attribute_not_exists(id)`, a local secondary index on `seq` for ordered queries, and a per-seller
 * counter item incremented with `UpdateItem ADD` to draw the next `seq`.
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
}

/**
 * One result of `putMany` per notification: its put's outcome, or `undefined` when an earlier
 * notification of the same seller failed, so this one was not attempted (its seq must follow).
 */
export type PutManyResults = ReadonlyArray<Exit.Exit<PutResult, NotificationStoreError> | undefined>

export class NotificationStoreError extends InfraError("NotificationStoreError", "notification store") {}

export class NotificationStore extends Context.Tag("product-events/NotificationStore")<
  NotificationStore,
  {
    /**
     * Stores the notification once per (sellerId, id). The first put assigns the seller's next `seq`
     * (increasing in put order; the live store may leave gaps after a crash or a concurrent duplicate).
     * A later put of the same id returns the stored notification unchanged, with `created: false`.
     */
    readonly put: (notification: Notification) => Effect.Effect<PutResult, NotificationStoreError>
    /**
     * `put` of each notification, batched: each seller's notifications in the order given (their
     * seqs follow it), different sellers concurrently. A seller's first failure stops its later
     * notifications (`undefined`); other sellers go on.
     */
    readonly putMany: (notifications: ReadonlyArray<Notification>) => Effect.Effect<PutManyResults>
    readonly get: (
      sellerId: string,
      id: string
    ) => Effect.Effect<Option.Option<StoredNotification>, NotificationStoreError>
    /** A page of the seller's notifications ordered by `seq`. */
    readonly list: (
      sellerId: string,
      options: ListOptions
    ) => Effect.Effect<ReadonlyArray<StoredNotification>, NotificationStoreError>
    /** Reachable and serving: for readiness probes. */
    readonly ping: Effect.Effect<void, NotificationStoreError>
  }
>() {}
