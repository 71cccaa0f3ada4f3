import type { QueryCommandInput } from "@aws-sdk/lib-dynamodb"
import { Array as Arr, Clock, Config, Duration, Effect, Exit, Layer, Option, Schema } from "effect"
import { Metrics } from "../services/Metrics.js"
import { type Notification, StoredNotification } from "../domain/Notification.js"
import {
  defaultNotificationRetention,
  type ListOptions,
  notificationExpired,
  notificationExpiry,
  notificationRetentionConfig,
  isConflict,
  NotificationStore,
  NotificationStoreError,
  type PutResult
} from "../services/NotificationStore.js"
import {
  clientOptionsConfig,
  type DynamoClientOptions,
  ensureTable,
  ensureTimeToLive,
  isConditionalCheckFailed,
  makeDocumentClient,
  ping as describeTable,
  batchGetSize,
  batchWriteSize,
  sendInPages,
  sendPage
} from "./Dynamo.js"
import { batchPut, makeItemClient } from "./DynamoItems.js"
import { SeqBlocks } from "./SeqBlocks.js"

/**
 * NotificationStore on DynamoDB.
 * - table `tableName`: key sellerId (S) + id (S), one item per notification; LSI `bySeq` (sellerId + seq N,
 *   all attributes) for ordered pages.
 * - table `countersTableName`: key sellerId (S), attribute `lastSeq` drawn with `UpdateItem ADD`.
 * A put reads first (a redelivery costs no seq), takes a seq, then writes under `attribute_not_exists(id)`;
 * a concurrent duplicate loses the condition and returns the winner's item (its seq is a gap).
 * Seqs are drawn from the counter in blocks (`seqBlock` at least, one `UpdateItem ADD` per block) and
 * handed out from memory, so a seller costs one counter write per block, not per notification. What is
 * left of the blocks is dropped by `forgetDrawnSeqs` (the consumer's partitions changed) and when a
 * seller's block is pushed out of the `maxReservedSellers` kept: never handed out after another
 * owner's seqs, it only leaves gaps.
 * `putMany` batches the same steps, under its precondition (`NotificationStore.putMany`): one
 * BatchGetItem per 100 notifications (unprocessed keys asked again after a back-off, `Dynamo.sendInPages`),
 * each seller's seqs taken at once, then unconditional puts with BatchWriteItem, 25 a request, 8 requests
 * at once, in waves: the nth new notification of every seller in the nth wave. Against a put each, that is
 * a 25th of the requests (on dynalite, a quarter of the store's CPU per notification).
 * Each item carries `expiresAt` (epoch seconds), the table's TTL attribute: reads skip expired items
 * and a put may overwrite one, whether or not the endpoint has deleted it yet (dynalite never does).
 */

export interface Options extends DynamoClientOptions {
  readonly tableName: string
  readonly countersTableName: string
  /** How long a notification is kept. Default 30 days. */
  readonly retention?: Duration.DurationInput
  /** Seqs drawn from a seller's counter at once. Default `defaultSeqBlock`; 1 draws each seq alone. */
  readonly seqBlock?: number
}

/** 32 seqs a draw: one counter write per 32 notifications of a seller; a rebalance leaves at most 31 unused. */
export const defaultSeqBlock = 32
/** Sellers whose unused seqs are kept; past it the longest kept are dropped (gaps, never disorder). */
export const maxReservedSellers = 20_000

/** The item attribute DynamoDB's TTL deletes by. */
export const expiresAtAttribute = "expiresAt"

export const seqIndex = "bySeq"

/** The item attribute holding the hash of the event a notification comes from (conflict detection). */
const contentHashAttribute = "contentHash"

/** A stored notification with the content hash it was stored with, if any. */
interface StoredEntry {
  readonly stored: StoredNotification
  readonly contentHash: unknown
}

const decodeStored = Schema.decodeUnknown(StoredNotification)

const existingResult = (entry: StoredEntry, contentHash: string | undefined): PutResult => ({
  notification: entry.stored,
  created: false,
  conflict: isConflict(entry.contentHash, contentHash)
})
const encodeStored = Schema.encode(StoredNotification)

export const make = (options: Options) =>
  Effect.gen(function*() {
    const client = yield* makeDocumentClient(options)
    const dynamo = yield* makeItemClient(options, client)
    const { tableName, countersTableName } = options
    const retention = options.retention === undefined ? defaultNotificationRetention : Duration.decode(options.retention)
    const fail = (operation: string) => (cause: unknown) => new NotificationStoreError({ operation, cause })

    yield* ensureTable(client, {
      tableName,
      keySchema: [{ AttributeName: "sellerId", KeyType: "HASH" }, { AttributeName: "id", KeyType: "RANGE" }],
      attributes: [
        { AttributeName: "sellerId", AttributeType: "S" },
        { AttributeName: "id", AttributeType: "S" },
        { AttributeName: "seq", AttributeType: "N" }
      ],
      localIndexes: [{
        IndexName: seqIndex,
        KeySchema: [{ AttributeName: "sellerId", KeyType: "HASH" }, { AttributeName: "seq", KeyType: "RANGE" }],
        Projection: { ProjectionType: "ALL" }
      }]
    }).pipe(Effect.mapError(fail("provision")))
    yield* ensureTimeToLive(client, tableName, expiresAtAttribute)
    yield* ensureTable(client, {
      tableName: countersTableName,
      keySchema: [{ AttributeName: "sellerId", KeyType: "HASH" }],
      attributes: [{ AttributeName: "sellerId", AttributeType: "S" }]
    }).pipe(Effect.mapError(fail("provision")))

    const decode = (operation: string) => (item: unknown) => decodeStored(item).pipe(Effect.mapError(fail(operation)))

    const getEntry = (sellerId: string, id: string) => Effect.gen(function*() {
      const out = yield* dynamo.call("GetItem", { TableName: tableName, Key: { sellerId, id }, ConsistentRead: true }, fail("get"))
      const now = yield* Clock.currentTimeMillis
      const expiresAt = out.Item?.[expiresAtAttribute]
      if (out.Item === undefined || (typeof expiresAt === "number" && notificationExpired(expiresAt, now))) {
        return Option.none<StoredEntry>()
      }
      return Option.some<StoredEntry>({ stored: yield* decode("get")(out.Item), contentHash: out.Item[contentHashAttribute] })
    })

    const get = Effect.fn("NotificationStore.get")((sellerId: string, id: string) =>
      Effect.map(getEntry(sellerId, id), Option.map((entry) => entry.stored))
    )

    const blocks = new SeqBlocks(Math.max(1, Math.floor(options.seqBlock ?? defaultSeqBlock)), maxReservedSellers)

    /** Draws `count` seqs for the seller from its counter; resolves to the last one drawn. */
    const drawSeqs = (sellerId: string, count: number) =>
      dynamo.call("UpdateItem", {
        TableName: countersTableName,
        Key: { sellerId },
        UpdateExpression: "ADD lastSeq :one",
        ExpressionAttributeValues: { ":one": count },
        ReturnValues: "UPDATED_NEW"
      }, fail("put")).pipe(
        Effect.flatMap((out) => {
          const seq = out.Attributes?.["lastSeq"]
          return typeof seq === "number" ? Effect.succeed(seq) : Effect.fail(fail("put")(`counter returned ${String(seq)}`))
        })
      )

    /** `count` increasing seqs for the seller: what is left of its reserved block, then a new draw if needed. */
    const takeSeqs = (sellerId: string, count: number): Effect.Effect<ReadonlyArray<number>, NotificationStoreError> =>
      Effect.suspend(() => {
        const seqs = blocks.take(sellerId, count)
        if (seqs.length === count) return Effect.succeed(seqs)
        const draw = blocks.startDraw(count - seqs.length)
        return Effect.map(drawSeqs(sellerId, draw.size), (last) => [...seqs, ...blocks.finishDraw(sellerId, draw, last)])
      })

    const forgetDrawnSeqs = Effect.sync(() => blocks.forget())

    const existing = (notification: Notification, contentHash: string | undefined) =>
      getEntry(notification.sellerId, notification.id).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(fail("put")(`${notification.id} vanished after a failed put condition`)),
          onSome: (entry): Effect.Effect<PutResult> => Effect.succeed(existingResult(entry, contentHash))
        }))
      )

    /** The item of a stored notification. */
    const itemOf = (stored: StoredNotification, contentHash: string | undefined, now: number) =>
      Effect.map(encodeStored(stored), (encoded) => ({
        ...encoded,
        [expiresAtAttribute]: notificationExpiry(now, retention),
        ...(contentHash === undefined ? {} : { [contentHashAttribute]: contentHash })
      })).pipe(Effect.mapError(fail("put")))

    /** Writes the notification with its drawn seq, unless its id is stored already (then returns that one). */
    const write = (notification: Notification, seq: number, contentHash: string | undefined) =>
      Effect.gen(function*() {
        const stored = StoredNotification.make({ ...notification, seq })
        const now = yield* Clock.currentTimeMillis
        const item = yield* itemOf(stored, contentHash, now)
        return yield* dynamo.call("PutItem", {
          TableName: tableName,
          Item: item,
          // An expired notification not yet deleted by TTL is stored anew.
          ConditionExpression: "attribute_not_exists(id) OR #expiresAt <= :now",
          ExpressionAttributeNames: { "#expiresAt": expiresAtAttribute },
          ExpressionAttributeValues: { ":now": now / 1000 }
        }, (cause) => cause).pipe(
          Effect.as<PutResult>({ notification: stored, created: true, conflict: false }),
          Effect.catchIf(isConditionalCheckFailed, () => existing(notification, contentHash)),
          Effect.mapError((cause) => cause instanceof NotificationStoreError ? cause : fail("put")(cause))
        )
      })

    const put = Effect.fn("NotificationStore.put")(function*(notification: Notification, contentHash?: string) {
      const before = yield* getEntry(notification.sellerId, notification.id)
      if (Option.isSome(before)) return existingResult(before.value, contentHash)
      const [seq] = yield* takeSeqs(notification.sellerId, 1)
      return yield* write(notification, seq!, contentHash)
    })

    /** The stored notifications among these, by `sellerId/id`: BatchGetItem, 100 keys a call, unprocessed keys asked again. */
    const getMany = (notifications: ReadonlyArray<Notification>) =>
      Effect.gen(function*() {
        const keys = new Map<string, Record<string, unknown>>(notifications.map(({ id, sellerId }) => [`${sellerId}/${id}`, { sellerId, id }]))
        const found = new Map<string, StoredEntry>()
        yield* sendInPages([...keys.values()], batchGetSize, 4, fail("put"), (page) =>
          Effect.gen(function*() {
            const out = yield* dynamo.call("BatchGetItem", { RequestItems: { [tableName]: { Keys: [...page], ConsistentRead: true } } }, fail("put"))
            const now = yield* Clock.currentTimeMillis
            for (const item of out.Responses?.[tableName] ?? []) {
              const expiresAt = item[expiresAtAttribute]
              if (typeof expiresAt === "number" && notificationExpired(expiresAt, now)) continue
              const stored = yield* decode("put")(item)
              found.set(`${stored.sellerId}/${stored.id}`, { stored, contentHash: item[contentHashAttribute] })
            }
            return out.UnprocessedKeys?.[tableName]?.Keys ?? []
          }))
        return found
      })

    /** Puts the items, 25 a request (unprocessed ones sent again), 8 requests at once: each item's exit is its request's. */
    const writeAll = (items: ReadonlyArray<Record<string, unknown>>) =>
      Effect.forEach(
        Arr.chunksOf(items, batchWriteSize),
        (page) =>
          Effect.map(Effect.exit(sendPage(page, fail("put"), (items) => batchPut(dynamo, tableName, items, fail("put")))), (exit) => page.map(() => exit)),
        { concurrency: 8 }
      ).pipe(Effect.map((pages) => pages.flat()))

    /**
     * The new notifications, after the stored ones were read: each seller's seqs taken at once, then the
     * puts in waves, the nth new notification of every seller in the nth wave, so that a seller's later
     * notification is written only once its earlier ones are (a failure leaves no later seq stored).
     * A failed request fails all its page's notifications (some may be stored: a retry finds them).
     * A seller with n new notifications takes n waves: as many requests one after another as `put`s.
     * Resolves to the indexes skipped (`skip`).
     */
    const putNew = (
      sellers: ReadonlyArray<ReadonlyArray<number>>,
      notifications: ReadonlyArray<Notification>,
      hashes: ReadonlyArray<string | undefined> | undefined,
      skip: ((index: number) => boolean) | undefined,
      results: Array<Exit.Exit<PutResult, NotificationStoreError> | undefined>
    ) =>
      Effect.gen(function*() {
        const skipped = new Set<number>()
        const drawn = yield* Effect.forEach(sellers, (at) => Effect.exit(takeSeqs(notifications[at[0]!]!.sellerId, at.length)), {
          concurrency: 8
        })
        const now = yield* Clock.currentTimeMillis
        let writing: Array<{ readonly at: ReadonlyArray<number>; readonly seqs: ReadonlyArray<number> }> = []
        sellers.forEach((at, s) => {
          const seqs = drawn[s]!
          if (Exit.isSuccess(seqs)) writing.push({ at, seqs: seqs.value })
          else results[at[0]!] = Exit.failCause(seqs.cause)
        })
        for (let wave = 0; writing.length > 0; wave++) {
          // A seller whose turn is skipped (its partition was revoked) stops here, unwritten.
          const turn = writing.filter(({ at }) => {
            if (skip?.(at[wave]!) !== true) return true
            skipped.add(at[wave]!)
            return false
          })
          const stored = turn.map(({ at, seqs }) => StoredNotification.make({ ...notifications[at[wave]!]!, seq: seqs[wave]! }))
          const items = yield* Effect.forEach(turn, ({ at }, s) => Effect.exit(itemOf(stored[s]!, hashes?.[at[wave]!], now)))
          const exits = yield* writeAll(items.flatMap((item) => (Exit.isSuccess(item) ? [item.value] : [])))
          const next: typeof writing = []
          let written = 0
          for (let s = 0; s < turn.length; s++) {
            const { at } = turn[s]!
            const item = items[s]!
            const exit: Exit.Exit<PutResult, NotificationStoreError> = Exit.isFailure(item)
              ? Exit.failCause(item.cause)
              : Exit.as(exits[written++]!, { notification: stored[s]!, created: true, conflict: false })
            results[at[wave]!] = exit
            if (Exit.isSuccess(exit) && wave + 1 < at.length) next.push(turn[s]!)
          }
          writing = next
        }
        return skipped
      })

    const putMany = Effect.fn("NotificationStore.putMany")(function*(
      notifications: ReadonlyArray<Notification>,
      contentHashes?: ReadonlyArray<string | undefined>,
      skip?: (index: number) => boolean
    ) {
      const results = new Array<Exit.Exit<PutResult, NotificationStoreError> | undefined>(notifications.length)
      const stored = yield* Effect.exit(getMany(notifications))
      if (Exit.isFailure(stored)) {
        // Each seller's first notification carries the failure; its later ones stay unattempted.
        const seen = new Set<string>()
        notifications.forEach((n, i) => {
          if (!seen.has(n.sellerId)) results[i] = stored as Exit.Exit<never, NotificationStoreError>
          seen.add(n.sellerId)
        })
        return results
      }
      // Each seller's new notifications, by index; an id given twice is new once, its repeats answered after.
      const bySeller = new Map<string, Array<number>>()
      const firstOf = new Map<string, number>()
      const repeats: Array<[number, number]> = []
      notifications.forEach((n, i) => {
        const key = `${n.sellerId}/${n.id}`
        const before = stored.value.get(key)
        const first = firstOf.get(key)
        if (before !== undefined) results[i] = Exit.succeed(existingResult(before, contentHashes?.[i]))
        else if (first !== undefined) repeats.push([i, first])
        else {
          firstOf.set(key, i)
          const seller = bySeller.get(n.sellerId)
          if (seller === undefined) bySeller.set(n.sellerId, [i])
          else seller.push(i)
        }
      })
      const skipped = yield* putNew([...bySeller.values()], notifications, contentHashes, skip, results)
      for (const [i, first] of repeats) {
        const put = results[first]
        if (put !== undefined && Exit.isSuccess(put)) {
          results[i] = Exit.succeed({ notification: put.value.notification, created: false, conflict: isConflict(contentHashes?.[first], contentHashes?.[i]) })
        }
      }
      // After a seller's failure or skip, its later notifications count as unattempted, stored already or not.
      const stopped = new Set<string>()
      notifications.forEach((n, i) => {
        if (stopped.has(n.sellerId)) results[i] = undefined
        else if (skipped.has(i) || (results[i] !== undefined && Exit.isFailure(results[i]!))) stopped.add(n.sellerId)
      })
      return results
    })

    const keyCondition = (options: ListOptions): Pick<QueryCommandInput, "KeyConditionExpression" | "ExpressionAttributeValues"> | undefined => {
      const { afterSeq, beforeSeq } = options
      if (afterSeq !== undefined && beforeSeq !== undefined) {
        const from = Math.floor(afterSeq) + 1
        const to = Math.ceil(beforeSeq) - 1
        if (from > to) return undefined
        return { KeyConditionExpression: "sellerId = :s AND seq BETWEEN :from AND :to", ExpressionAttributeValues: { ":from": from, ":to": to } }
      }
      if (afterSeq !== undefined) return { KeyConditionExpression: "sellerId = :s AND seq > :a", ExpressionAttributeValues: { ":a": afterSeq } }
      if (beforeSeq !== undefined) return { KeyConditionExpression: "sellerId = :s AND seq < :b", ExpressionAttributeValues: { ":b": beforeSeq } }
      return { KeyConditionExpression: "sellerId = :s", ExpressionAttributeValues: {} }
    }

    const list = Effect.fn("NotificationStore.list")(function*(sellerId: string, options: ListOptions) {
      const condition = keyCondition(options)
      if (options.limit <= 0 || condition === undefined) return []
      const now = yield* Clock.currentTimeMillis
      const items = yield* dynamo.query(
        {
          TableName: tableName,
          IndexName: seqIndex,
          KeyConditionExpression: condition.KeyConditionExpression,
          FilterExpression: "attribute_not_exists(#expiresAt) OR #expiresAt > :now",
          ExpressionAttributeNames: { "#expiresAt": expiresAtAttribute },
          ExpressionAttributeValues: { ...condition.ExpressionAttributeValues, ":s": sellerId, ":now": now / 1000 },
          ScanIndexForward: options.order === "asc",
          ConsistentRead: true
        },
        fail("list"),
        options.limit
      )
      return yield* Effect.forEach(items, decode("list"))
    })

    const ping = describeTable(client, tableName, fail("ping")).pipe(Effect.withSpan("NotificationStore.ping"))

    return NotificationStore.of({ put, putMany, get, list, forgetDrawnSeqs, ping })
  })

export const layer = (options: Options): Layer.Layer<NotificationStore, NotificationStoreError> =>
  Layer.scoped(NotificationStore, make(options))

/**
 * From env: DYNAMODB_ENDPOINT, AWS_REGION, NOTIFICATIONS_TABLE, NOTIFICATION_COUNTERS_TABLE, NOTIFICATION_RETENTION,
 * NOTIFICATION_SEQ_BLOCK;
 * its write requests counted in the process's Metrics.
 */
export const layerConfig = Layer.unwrapEffect(
  Effect.map(
    Effect.all([
      Config.all({
        client: clientOptionsConfig,
        tableName: Config.string("NOTIFICATIONS_TABLE").pipe(Config.withDefault("product-events-notifications")),
        countersTableName: Config.string("NOTIFICATION_COUNTERS_TABLE").pipe(
          Config.withDefault("product-events-notification-counters")
        ),
        retention: notificationRetentionConfig,
        seqBlock: Config.integer("NOTIFICATION_SEQ_BLOCK").pipe(
          Config.validate({ message: "NOTIFICATION_SEQ_BLOCK must be at least 1", validation: (n) => n >= 1 }),
          Config.withDefault(defaultSeqBlock)
        )
      }),
      Metrics
    ]),
    ([{ client, ...tables }, metrics]) =>
      layer({
        ...client,
        ...tables,
        onWriteRequest: (table, operation) => metrics.dynamoWrites.inc({ store: "notifications", table, operation })
      })
  )
)
