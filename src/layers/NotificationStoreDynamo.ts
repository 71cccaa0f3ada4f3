import { DescribeTableCommand } from "@aws-sdk/client-dynamodb"
import { BatchGetCommand, GetCommand, PutCommand, type QueryCommandInput, UpdateCommand } from "@aws-sdk/lib-dynamodb"
import { Clock, Config, Duration, Effect, Exit, Layer, Option, Schema } from "effect"
import { Metrics } from "../services/Metrics.js"
import { type Notification, StoredNotification } from "../domain/Notification.js"
import {
  defaultNotificationRetention,
  type ListOptions,
  notificationExpired,
  notificationExpiry,
  notificationRetentionConfig,
  NotificationStore,
  NotificationStoreError,
  type PutResult
} from "../services/NotificationStore.js"
import {
  call,
  clientOptionsConfig,
  type DynamoClientOptions,
  ensureTable,
  ensureTimeToLive,
  isConditionalCheckFailed,
  makeDocumentClient,
  queryPages
} from "./Dynamo.js"

/**
 * NotificationStore on DynamoDB.
 * - table `tableName`: key sellerId (S) + id (S), one item per notification; LSI `bySeq` (sellerId + seq N,
 *   all attributes) for ordered pages.
 * - table `countersTableName`: key sellerId (S), attribute `lastSeq` drawn with `UpdateItem ADD`.
 * A put reads first (a redelivery costs no seq), draws a seq, then writes under `attribute_not_exists(id)`;
 * a concurrent duplicate loses the condition and returns the winner's item (its drawn seq is a gap).
 * `putMany` batches the same steps: one BatchGetItem per 100 notifications, one counter update per
 * seller drawing all its seqs at once, then the conditional puts (BatchWriteItem takes no
 * condition), each seller's in order, sellers concurrently.
 * Each item carries `expiresAt` (epoch seconds), the table's TTL attribute: reads skip expired items
 * and a put may overwrite one, whether or not the endpoint has deleted it yet (dynalite never does).
 */

export interface Options extends DynamoClientOptions {
  readonly tableName: string
  readonly countersTableName: string
  /** How long a notification is kept. Default 30 days. */
  readonly retention?: Duration.DurationInput
}

/** The item attribute DynamoDB's TTL deletes by. */
export const expiresAtAttribute = "expiresAt"

export const seqIndex = "bySeq"

const decodeStored = Schema.decodeUnknown(StoredNotification)
const encodeStored = Schema.encode(StoredNotification)

export const make = (options: Options) =>
  Effect.gen(function*() {
    const client = yield* makeDocumentClient(options)
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

    const get = Effect.fn("NotificationStore.get")(function*(sellerId: string, id: string) {
      const out = yield* call(
        (abortSignal) =>
          client.send(new GetCommand({ TableName: tableName, Key: { sellerId, id }, ConsistentRead: true }), { abortSignal }),
        fail("get")
      )
      const now = yield* Clock.currentTimeMillis
      const expiresAt = out.Item?.[expiresAtAttribute]
      if (out.Item === undefined || (typeof expiresAt === "number" && notificationExpired(expiresAt, now))) return Option.none()
      return Option.some(yield* decode("get")(out.Item))
    })

    /** Draws `count` seqs for the seller at once; resolves to the last one drawn. */
    const nextSeq = (sellerId: string, count = 1) =>
      call(
        (abortSignal) =>
          client.send(
            new UpdateCommand({
              TableName: countersTableName,
              Key: { sellerId },
              UpdateExpression: "ADD lastSeq :one",
              ExpressionAttributeValues: { ":one": count },
              ReturnValues: "UPDATED_NEW"
            }),
            { abortSignal }
          ),
        fail("put")
      ).pipe(
        Effect.flatMap((out) => {
          const seq = out.Attributes?.["lastSeq"]
          return typeof seq === "number" ? Effect.succeed(seq) : Effect.fail(fail("put")(`counter returned ${String(seq)}`))
        })
      )

    const existing = (notification: Notification) =>
      get(notification.sellerId, notification.id).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(fail("put")(`${notification.id} vanished after a failed put condition`)),
          onSome: (stored): Effect.Effect<PutResult> => Effect.succeed({ notification: stored, created: false })
        }))
      )

    /** Writes the notification with its drawn seq, unless its id is stored already (then returns that one). */
    const write = (notification: Notification, seq: number) =>
      Effect.gen(function*() {
        const stored = StoredNotification.make({ ...notification, seq })
        const encoded = yield* encodeStored(stored).pipe(Effect.mapError(fail("put")))
        const now = yield* Clock.currentTimeMillis
        const item = { ...encoded, [expiresAtAttribute]: notificationExpiry(now, retention) }
        return yield* call(
        (abortSignal) =>
          client.send(
            new PutCommand({
              TableName: tableName,
              Item: item,
              // An expired notification not yet deleted by TTL is stored anew.
              ConditionExpression: "attribute_not_exists(id) OR #expiresAt <= :now",
              ExpressionAttributeNames: { "#expiresAt": expiresAtAttribute },
              ExpressionAttributeValues: { ":now": now / 1000 }
            }),
            { abortSignal }
          ),
        (cause) => cause
        ).pipe(
          Effect.as<PutResult>({ notification: stored, created: true }),
          Effect.catchIf(isConditionalCheckFailed, () => existing(notification)),
          Effect.mapError((cause) => cause instanceof NotificationStoreError ? cause : fail("put")(cause))
        )
      })

    const put = Effect.fn("NotificationStore.put")(function*(notification: Notification) {
      const before = yield* get(notification.sellerId, notification.id)
      if (Option.isSome(before)) return { notification: before.value, created: false } satisfies PutResult
      return yield* write(notification, yield* nextSeq(notification.sellerId))
    })

    /** The stored notifications among these, by `sellerId/id`: BatchGetItem, 100 keys a call, unprocessed keys asked again. */
    const getMany = (notifications: ReadonlyArray<Notification>) =>
      Effect.gen(function*() {
        const keys = new Map<string, { sellerId: string; id: string }>()
        for (const { id, sellerId } of notifications) keys.set(`${sellerId}/${id}`, { sellerId, id })
        const found = new Map<string, StoredNotification>()
        let pending = [...keys.values()]
        while (pending.length > 0) {
          const batch = pending.slice(0, 100)
          pending = pending.slice(100)
          const out = yield* call(
            (abortSignal) =>
              client.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: batch, ConsistentRead: true } } }), { abortSignal }),
            fail("put")
          )
          const now = yield* Clock.currentTimeMillis
          for (const item of out.Responses?.[tableName] ?? []) {
            const expiresAt = item[expiresAtAttribute]
            if (typeof expiresAt === "number" && notificationExpired(expiresAt, now)) continue
            const stored = yield* decode("put")(item)
            found.set(`${stored.sellerId}/${stored.id}`, stored)
          }
          const unprocessed = out.UnprocessedKeys?.[tableName]?.Keys
          if (unprocessed !== undefined) pending.push(...(unprocessed as Array<{ sellerId: string; id: string }>))
        }
        return found
      })

    /** One seller's new notifications, in order: their seqs drawn at once, then written one after another. */
    const putSeller = (notifications: ReadonlyArray<Notification>, results: Array<Exit.Exit<PutResult, NotificationStoreError> | undefined>, at: ReadonlyArray<number>) =>
      Effect.gen(function*() {
        const last = yield* nextSeq(notifications[0]!.sellerId, notifications.length)
        const first = last - notifications.length + 1
        for (let i = 0; i < notifications.length; i++) {
          const exit = yield* Effect.exit(write(notifications[i]!, first + i))
          results[at[i]!] = exit
          if (Exit.isFailure(exit)) return
        }
      }).pipe(Effect.catchAll((error) => Effect.sync(() => void (results[at[0]!] = Exit.fail(error)))))

    const putMany = Effect.fn("NotificationStore.putMany")(function*(notifications: ReadonlyArray<Notification>) {
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
      const bySeller = new Map<string, { notifications: Array<Notification>; at: Array<number> }>()
      notifications.forEach((n, i) => {
        const before = stored.value.get(`${n.sellerId}/${n.id}`)
        if (before !== undefined) {
          results[i] = Exit.succeed({ notification: before, created: false })
          return
        }
        let seller = bySeller.get(n.sellerId)
        if (seller === undefined) bySeller.set(n.sellerId, seller = { notifications: [], at: [] })
        seller.notifications.push(n)
        seller.at.push(i)
      })
      yield* Effect.forEach(bySeller.values(), (s) => putSeller(s.notifications, results, s.at), {
        concurrency: 32,
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
      const items = yield* queryPages(
        client,
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

    const ping = call(
      (abortSignal) => client.send(new DescribeTableCommand({ TableName: tableName }), { abortSignal }),
      fail("ping")
    ).pipe(Effect.asVoid, Effect.withSpan("NotificationStore.ping"))

    return NotificationStore.of({ put, putMany, get, list, ping })
  })

export const layer = (options: Options): Layer.Layer<NotificationStore, NotificationStoreError> =>
  Layer.scoped(NotificationStore, make(options))

/**
 * From env: DYNAMODB_ENDPOINT, AWS_REGION, NOTIFICATIONS_TABLE, NOTIFICATION_COUNTERS_TABLE, NOTIFICATION_RETENTION;
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
        retention: notificationRetentionConfig
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
