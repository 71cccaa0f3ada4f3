import { Clock, Config, type Duration, Effect, Layer, Option, Schema } from "effect"
import {
  type ApplyResult,
  type Claim,
  isReservedAttribute,
  type ItemRange,
  claimExpiry,
  claimItemPrefix,
  claimLapsed,
  releasedClaim,
  claimRetentionConfig,
  claimRetentionOf,
  expiresAtAttribute,
  keyAttributes,
  MetricsStore,
  MetricsStoreError,
  type MetricsUpdate,
  watermarkAttribute,
  checkUpdate,
  pendingItem,
  pendingItemPrefix
} from "../services/MetricsStore.js"
import { totalsItem } from "../domain/MetricsDelta.js"
import { type PendingMetrics, PendingWindow, type WatermarkedItem } from "../domain/PendingMetrics.js"
import { compareKeyBytes } from "../services/KeyOrder.js"
import { Metrics } from "../services/Metrics.js"
import * as Dynamo from "./Dynamo.js"
import { batchPut, makeItemClient } from "./DynamoItems.js"

/**
 * MetricsStore on DynamoDB: table `tableName` keyed by sellerId (S) + item (S). Each apply is one
 * conditional UpdateItem (`ADD` the values, `SET wm_p<partition>`); a refused condition is told apart
 * ("duplicate" / "overlap") by a consistent read of the item's watermark. `claimMany` reads the
 * claim items with BatchGetItem and puts the new claims with BatchWriteItem (see `MetricsStore`).
 */

export interface Options extends Dynamo.DynamoClientOptions {
  readonly tableName: string
  /** How long a claim holds. Default `defaultClaimRetention` (30 days). */
  readonly claimRetention?: Duration.DurationInput
}

/** Attribute of a claim item: the source record that claimed the event. */
const claimSource = "claimedBy"
/**
 * Attributes of a pending record (`pendingItem(partition)`): its partition, and its windows as one JSON
 * string (`PendingWindow`s): nested maps cost the store and the client more to convert, per attribute.
 */
const pendingPartition = "partition"
const pendingWindows = "windows"

/** Batch requests of one `claimMany` in flight at once. */
const batchesInFlight = 8

const keyOf = (sellerId: string, item: string): string => JSON.stringify([sellerId, item])

const watermarkPrefix = watermarkAttribute(0).slice(0, -1)
const decodeWindows = Schema.decodeUnknownOption(Schema.parseJson(Schema.Array(PendingWindow)))

const watermarksOf = (item: Record<string, unknown>): Record<number, number> => {
  const watermarks: Record<number, number> = {}
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(watermarkPrefix) && typeof value === "number") watermarks[Number(name.slice(watermarkPrefix.length))] = value
  }
  return watermarks
}

const valuesOf = (item: Record<string, unknown>): Record<string, number> => {
  const values: Record<string, number> = {}
  for (const [name, value] of Object.entries(item)) {
    if (!isReservedAttribute(name) && typeof value === "number") values[name] = value
  }
  return values
}

export const make = (options: Options) =>
  Effect.gen(function*() {
    const client = yield* Dynamo.makeDocumentClient(options)
    const dynamo = yield* makeItemClient(options, client)
    const { tableName } = options
    const fail = (operation: string) => (cause: unknown) => new MetricsStoreError({ operation, cause })

    yield* Dynamo.ensureTable(client, {
      tableName,
      keySchema: [
        { AttributeName: keyAttributes.partition, KeyType: "HASH" },
        { AttributeName: keyAttributes.sort, KeyType: "RANGE" }
      ],
      attributes: [
        { AttributeName: keyAttributes.partition, AttributeType: "S" },
        { AttributeName: keyAttributes.sort, AttributeType: "S" }
      ]
    }).pipe(Effect.mapError(fail("provision")))
    yield* Dynamo.ensureTimeToLive(client, tableName, expiresAtAttribute)
    const retention = claimRetentionOf(options)

    const readItem = (operation: string, sellerId: string, item: string) =>
      dynamo.call("GetItem", { TableName: tableName, Key: { sellerId, item }, ConsistentRead: true }, fail(operation)).pipe(
        Effect.map((out) => Option.fromNullable(out.Item))
      )

    const watermarkOf = (stored: Record<string, unknown>, partition: number) => {
      const wm = stored[watermarkAttribute(partition)]
      return typeof wm === "number" ? Option.some(wm) : Option.none()
    }

    const apply = Effect.fn("MetricsStore.apply")(function*(update: MetricsUpdate) {
      yield* checkUpdate(update)
      const names: Record<string, string> = { "#wm": watermarkAttribute(update.partition) }
      const values: Record<string, unknown> = { ":offset": update.offset, ":from": update.fromOffset }
      const adds = Object.entries(update.add).map(([name, delta], i) => {
        names[`#v${i}`] = name
        values[`:v${i}`] = delta
        return `#v${i} :v${i}`
      })
      const expression = `SET #wm = :offset${adds.length > 0 ? ` ADD ${adds.join(", ")}` : ""}`
      return yield* dynamo.call("UpdateItem", {
        TableName: tableName,
        Key: { sellerId: update.sellerId, item: update.item },
        UpdateExpression: expression,
        ConditionExpression: "attribute_not_exists(#wm) OR #wm < :from",
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values
      }, (cause) => cause).pipe(
        Effect.as<ApplyResult>("applied"),
        Effect.catchIf(Dynamo.isConditionalCheckFailed, () =>
          readItem("apply", update.sellerId, update.item).pipe(
            Effect.map(Option.flatMap((stored) => watermarkOf(stored, update.partition))),
            Effect.flatMap(Option.match({
              onNone: () => Effect.fail(fail("apply")("condition refused but the item has no watermark")),
              onSome: (wm) => Effect.succeed<ApplyResult>(wm >= update.offset ? "duplicate" : "overlap")
            }))
          )),
        Effect.mapError((cause) => cause instanceof MetricsStoreError ? cause : fail("apply")(cause))
      )
    })

    const get = Effect.fn("MetricsStore.get")((sellerId: string, item: string) => readItem("get", sellerId, item).pipe(Effect.map(Option.map(valuesOf))))

    const watermark = Effect.fn("MetricsStore.watermark")((sellerId: string, item: string, partition: number) =>
      readItem("watermark", sellerId, item).pipe(Effect.map(Option.flatMap((stored) => watermarkOf(stored, partition))))
    )

    const query = Effect.fn("MetricsStore.query")(function*(sellerId: string, itemPrefix: string, range?: ItemRange) {
      const values: Record<string, unknown> = { ":s": sellerId }
      let condition = "sellerId = :s"
      if (range !== undefined) {
        if (compareKeyBytes(itemPrefix + range.from, itemPrefix + range.to) > 0) return []
        condition += " AND #item BETWEEN :from AND :to"
        values[":from"] = itemPrefix + range.from
        values[":to"] = itemPrefix + range.to
      } else if (itemPrefix !== "") {
        condition += " AND begins_with(#item, :p)"
        values[":p"] = itemPrefix
      }
      const items = yield* dynamo.query({
        TableName: tableName,
        KeyConditionExpression: condition,
        ...(condition.includes("#item") ? { ExpressionAttributeNames: { "#item": keyAttributes.sort } } : {}),
        ExpressionAttributeValues: values,
        ConsistentRead: true
      }, fail("query"))
      const found: Array<WatermarkedItem> = []
      for (const stored of items) {
        // A key attribute cannot be filtered server-side: the range query may reach past the prefix.
        const item = String(stored[keyAttributes.sort])
        if (item.startsWith(itemPrefix) && stored[claimSource] === undefined && !item.startsWith(pendingItemPrefix)) {
          found.push({ item, values: valuesOf(stored), watermarks: watermarksOf(stored) })
        }
      }
      return found.sort((a, b) => compareKeyBytes(a.item, b.item))
    })

    const putPending = Effect.fn("MetricsStore.putPending")(function*(pending: ReadonlyArray<PendingMetrics>) {
      const records = pending.map(({ partition, sellerId, windows }): Record<string, unknown> => ({
        sellerId,
        item: pendingItem(partition),
        [pendingPartition]: partition,
        [pendingWindows]: JSON.stringify(windows)
      }))
      yield* Dynamo.sendInPages(records, Dynamo.batchWriteSize, batchesInFlight, fail("putPending"), (page) =>
        batchPut(dynamo, tableName, page, fail("putPending")))
    })

    const totalsAndPending = Effect.fn("MetricsStore.totalsAndPending")(function*(sellerId: string) {
      const items = yield* dynamo.query({
        TableName: tableName,
        KeyConditionExpression: "sellerId = :s AND begins_with(#item, :p)",
        ExpressionAttributeNames: { "#item": keyAttributes.sort },
        ExpressionAttributeValues: { ":s": sellerId, ":p": totalsItem },
        ConsistentRead: true
      }, fail("totalsAndPending"))
      const totals: Array<WatermarkedItem> = []
      const pending: Array<PendingMetrics> = []
      for (const stored of items) {
        const item = String(stored[keyAttributes.sort])
        if (item === totalsItem) totals.push({ item, values: valuesOf(stored), watermarks: watermarksOf(stored) })
        else if (item.startsWith(pendingItemPrefix)) {
          // A record this version cannot read (written by another) is left out: the items still hold what was applied.
          const decoded = decodeWindows(stored[pendingWindows])
          const partition = stored[pendingPartition]
          if (Option.isSome(decoded) && item === pendingItem(Number(partition)) && Number.isSafeInteger(partition)) {
            pending.push({ sellerId, partition: partition as number, windows: decoded.value })
          } else yield* Effect.logDebug(`pending record ${item} of seller ${sellerId} unreadable: left out`)
        }
      }
      return { totals, pending }
    })

    const ping = Dynamo.ping(client, tableName, fail("ping")).pipe(Effect.withSpan("MetricsStore.ping"))

    const claim = Effect.fn("MetricsStore.claim")(function*(sellerId: string, eventId: string, source: string) {
      const now = yield* Clock.currentTimeMillis
      return yield* dynamo.call("PutItem", {
        TableName: tableName,
        Item: { sellerId, item: claimItemPrefix + eventId, [claimSource]: source, [expiresAtAttribute]: claimExpiry(now, retention) },
        ConditionExpression: "attribute_not_exists(#item) OR #source IN (:source, :released) OR #expiresAt <= :now",
        ExpressionAttributeNames: { "#item": keyAttributes.sort, "#source": claimSource, "#expiresAt": expiresAtAttribute },
        ExpressionAttributeValues: { ":source": source, ":released": releasedClaim, ":now": Math.floor(now / 1000) }
      }, (cause) => cause).pipe(
        Effect.as(true),
        Effect.catchIf(Dynamo.isConditionalCheckFailed, () => Effect.succeed(false)),
        Effect.mapError((cause) => cause instanceof MetricsStoreError ? cause : fail("claim")(cause))
      )
    })

    const claimMany = Effect.fn("MetricsStore.claimMany")(function*(claims: ReadonlyArray<Claim>) {
      if (claims.length === 0) return []
      const now = yield* Clock.currentTimeMillis
      const keys = new Map<string, Record<string, unknown>>(claims.map(({ eventId, sellerId }) => [keyOf(sellerId, claimItemPrefix + eventId), { sellerId, item: claimItemPrefix + eventId }]))
      // The source holding each claim item, of those found and not lapsed; then also of those claimed here.
      const holders = new Map<string, string>()
      yield* Dynamo.sendInPages([...keys.values()], Dynamo.batchGetSize, batchesInFlight, fail("claimMany"), (page) =>
        dynamo.call("BatchGetItem", { RequestItems: { [tableName]: { Keys: [...page], ConsistentRead: true } } }, fail("claimMany")).pipe(Effect.map((out) => {
          for (const stored of out.Responses?.[tableName] ?? []) {
            const source = stored[claimSource]
            const expiresAt = stored[expiresAtAttribute]
            if (typeof source !== "string" || (typeof expiresAt === "number" && claimLapsed(expiresAt, now))) continue
            holders.set(keyOf(String(stored[keyAttributes.partition]), String(stored[keyAttributes.sort])), source)
          }
          return out.UnprocessedKeys?.[tableName]?.Keys ?? []
        })))
      const expiresAt = claimExpiry(now, retention)
      const puts: Array<Record<string, unknown>> = []
      // Released claims are claimed again one by one, conditionally (see `MetricsStore.claimMany`).
      const released: Array<number> = []
      const answers = claims.map(({ eventId, sellerId, source }, i) => {
        const key = keyOf(sellerId, claimItemPrefix + eventId)
        const holder = holders.get(key)
        if (holder === releasedClaim) {
          released.push(i)
          return false
        }
        if (holder !== undefined) return holder === source
        holders.set(key, source)
        puts.push({ sellerId, item: claimItemPrefix + eventId, [claimSource]: source, [expiresAtAttribute]: expiresAt })
        return true
      })
      yield* Dynamo.sendInPages(puts, Dynamo.batchWriteSize, batchesInFlight, fail("claimMany"), (page) =>
        batchPut(dynamo, tableName, page, fail("claimMany")))
      for (const i of released) answers[i] = yield* claim(claims[i]!.sellerId, claims[i]!.eventId, claims[i]!.source)
      return answers
    })

    const release = Effect.fn("MetricsStore.release")((sellerId: string, eventId: string, source: string) =>
      dynamo.call("UpdateItem", {
        TableName: tableName,
        Key: { sellerId, item: claimItemPrefix + eventId },
        UpdateExpression: "SET #source = :released",
        ConditionExpression: "#source = :source",
        ExpressionAttributeNames: { "#source": claimSource },
        ExpressionAttributeValues: { ":source": source, ":released": releasedClaim }
      }, (cause) => cause).pipe(
        Effect.asVoid,
        Effect.catchIf(Dynamo.isConditionalCheckFailed, () => Effect.void),
        Effect.mapError((cause) => cause instanceof MetricsStoreError ? cause : fail("release")(cause))
      )
    )

    return MetricsStore.of({ apply, get, watermark, query, putPending, totalsAndPending, claim, claimMany, release, ping })
  })

export const layer = (options: Options): Layer.Layer<MetricsStore, MetricsStoreError> =>
  Layer.scoped(MetricsStore, make(options))

/** From env: DYNAMODB_ENDPOINT, AWS_REGION, METRICS_TABLE; its write requests counted in the process's Metrics. */
export const layerConfig = Layer.unwrapEffect(
  Effect.map(
    Effect.all([
      Config.all({
        client: Dynamo.clientOptionsConfig,
        tableName: Config.string("METRICS_TABLE").pipe(Config.withDefault("product-events-metrics")),
        claimRetention: claimRetentionConfig
      }),
      Metrics
    ]),
    ([{ claimRetention, client, tableName }, metrics]) =>
      layer({
        ...client,
        tableName,
        claimRetention,
        onWriteRequest: (table, operation) => metrics.dynamoWrites.inc({ store: "metrics", table, operation })
      })
  )
)
