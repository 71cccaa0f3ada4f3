import { describe, expect, inject, it } from "@effect/vitest"
import { randomUUID } from "node:crypto"
import { ConfigProvider, Effect, Layer } from "effect"
import * as MetricsStoreDynamo from "../../src/layers/MetricsStoreDynamo.js"
import { Metrics } from "../../src/services/Metrics.js"
import { MetricsStore } from "../../src/services/MetricsStore.js"
import { liveEnv, requireServers } from "../support/servers.js"

/**
 * `dynamodb_write_requests_total`: each write request the DynamoDB layers send is counted once, by store,
 * table and operation, in the process's Metrics (the cost side of analytics' and notifications' writes).
 */
const env = inject("liveEnv") ?? liveEnv()
await requireServers(["dynamodb"], env)

const table = `test-${randomUUID().replaceAll("-", "").slice(0, 12)}-metrics`
const config = ConfigProvider.fromMap(new Map([
  ["DYNAMODB_ENDPOINT", env.DYNAMODB_ENDPOINT],
  ["AWS_REGION", env.AWS_REGION],
  ["AWS_ACCESS_KEY_ID", env.AWS_ACCESS_KEY_ID],
  ["AWS_SECRET_ACCESS_KEY", env.AWS_SECRET_ACCESS_KEY],
  ["METRICS_TABLE", table]
]))

describe("DynamoDB write requests in /metrics", () => {
  it.scoped("counts each write request of the metrics store once, and no read", () =>
    Effect.gen(function*() {
      const store = yield* MetricsStore
      const metrics = yield* Metrics
      yield* store.apply({ sellerId: "w_a", item: "totals", partition: 0, fromOffset: 0, offset: 0, add: { activeProducts: 1 } })
      yield* store.apply({ sellerId: "w_a", item: "totals", partition: 0, fromOffset: 0, offset: 0, add: { activeProducts: 1 } })
      yield* store.claim("w_a", "w_a-p-ProductCreated-1764619200000", "0:0")
      yield* store.release("w_a", "w_a-p-ProductCreated-1764619200000", "0:0")
      yield* store.query("w_a", "")
      const counted = (yield* Effect.promise(() => metrics.dynamoWrites.get())).values
        .filter((v) => v.labels["table"] === table)
        .map((v) => [v.labels["store"], v.labels["operation"], v.value])
      // The refused duplicate is a request too (a conditional write is billed either way).
      // A release marks the claim released (an UpdateItem), it does not delete it.
      expect(counted.sort()).toEqual([["metrics", "PutItem", 1], ["metrics", "UpdateItem", 3]])
      expect(yield* metrics.render).toMatch(new RegExp(`dynamodb_write_requests_total\\{store="metrics",table="${table}",operation="UpdateItem"\\} 3`))
    }).pipe(Effect.provide(MetricsStoreDynamo.layerConfig.pipe(Layer.provideMerge(Metrics.Default))), Effect.withConfigProvider(config)))

  it.scoped("claimMany of N new events is ceil(N/25) BatchWriteItem requests, and no PutItem; its redelivery writes nothing", () =>
    Effect.gen(function*() {
      const store = yield* MetricsStore
      const metrics = yield* Metrics
      const written = Effect.map(Effect.promise(() => metrics.dynamoWrites.get()), ({ values }) => {
        const byOperation: Record<string, number> = {}
        for (const v of values) if (v.labels["table"] === table) byOperation[String(v.labels["operation"])] = v.value
        return byOperation
      })
      const before = yield* written
      const claims = Array.from({ length: 60 }, (_, i) => ({ sellerId: `w_b${i % 4}`, eventId: `w_b-e${i}`, source: `1:${i}` }))
      expect(yield* store.claimMany(claims)).toEqual(claims.map(() => true))
      const after = yield* written
      expect(after).toEqual({ ...before, BatchWriteItem: (before["BatchWriteItem"] ?? 0) + Math.ceil(60 / 25) })
      expect(yield* store.claimMany(claims)).toEqual(claims.map(() => true))
      expect(yield* written).toEqual(after)
    }).pipe(Effect.provide(MetricsStoreDynamo.layerConfig.pipe(Layer.provideMerge(Metrics.Default))), Effect.withConfigProvider(config)))
})
