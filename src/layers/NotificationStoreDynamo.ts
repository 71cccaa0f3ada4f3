import type { QueryCommandInput } from "@aws-sdk/lib-dynamodb"
import { Clock, Config, Duration, Effect, Exit, Layer, Option, Schema } from "effect"
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
  sendInPages
} from "./Dynamo.js"
import { makeItemClient } from "./DynamoItems.js"
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
 * `putMany` batches the same steps: one BatchGetItem per 100 notifications (unprocessed keys asked
 * again after a back-off, `Dynamo.sendInPages`), each seller's seqs taken at once, then the conditional
 * puts (BatchWriteItem takes no condition), each seller's in order, sellers 8 at a time.
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

    /** Writes the notification with its drawn seq, unless its id is stored already (then returns that one). */
    const write = (notification: Notification, seq: number, contentHash: string | undefined) =>
      Effect.gen(function*() {
        const stored = StoredNotification.make({ ...notification, seq })
        const encoded = yield* encodeStored(stored).pipe(Effect.mapError(fail("put")))
        const now = yield* Clock.currentTimeMillis
        const item = {
          ...encoded,
          [expiresAtAttribute]: notificationExpiry(now, retention),
          ...(contentHash === undefined ? {} : { [contentHashAttribute]: contentHash })
        }
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

    /** One seller's new notifications, in order: their seqs taken at once, then written one after another. */
    const putSeller = (
      notifications: ReadonlyArray<Notification>,
      hashes: ReadonlyArray<string | undefined>,
      results: Array<Exit.Exit<PutResult, NotificationStoreError> | undefined>,
      at: ReadonlyArray<number>
    ) =>
      Effect.gen(function*() {
        const seqs = yield* takeSeqs(notifications[0]!.sellerId, notifications.length)
        for (let i = 0; i < notifications.length; i++) {
          const exit = yield* Effect.exit(write(notifications[i]!, seqs[i]!, hashes[i]))
          results[at[i]!] = exit
          if (Exit.isFailure(exit)) return
        }
      }).pipe(Effect.catchAll((error) => Effect.sync(() => void (results[at[0]!] = Exit.fail(error)))))

    const putMany = Effect.fn("NotificationStore.putMany")(function*(
      notifications: ReadonlyArray<Notification>,
      contentHashes?: ReadonlyArray<string | undefined>
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
      const bySeller = new Map<string, { notifications: Array<Notification>; hashes: Array<string | undefined>; at: Array<number> }>()
      notifications.forEach((n, i) => {
        const before = stored.value.get(`${n.sellerId}/${n.id}`)
        if (before !== undefined) {
          results[i] = Exit.succeed(existingResult(before, contentHashes?.[i]))
          return
        }
        let seller = bySeller.get(n.sellerId)
        if (seller === undefined) bySeller.set(n.sellerId, seller = { notifications: [], hashes: [], at: [] })
        seller.notifications.push(n)
        seller.hashes.push(contentHashes?.[i])
        seller.at.push(i)
      })
      // 8 sellers at a time (64 requests with notification-service's 8 lanes): enough to keep the store
      // busy, few enough that a store shared with analytics-service does not queue its requests behind ours.
      yield* Effect.forEach(bySeller.values(), (s) => putSeller(s.notifications, s.hashes, results, s.at), {
        concurrency: 8,
        discard: true
      })
      // After a seller's failure, its later notifications count as unattempted, stored already or not.
      const failed = new Set<string>()
      notifications.forEach((n, i) => {
        if (failed.has(n.sellerId)) results[i] = undefined
        else if (results[i] !== undefined && Exit.isFailure(results[i]!)) failed.add(n.sellerId)
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
