import { describe, expect, inject, layer } from "@effect/vitest"
import { randomUUID } from "node:crypto"
import { Redis } from "ioredis"
import { Duration, Effect, Option, Schedule, Stream } from "effect"
import * as MetricsStoreDynamo from "../../src/layers/MetricsStoreDynamo.js"
import * as NotificationStoreDynamo from "../../src/layers/NotificationStoreDynamo.js"
import * as ObjectStoreS3 from "../../src/layers/ObjectStoreS3.js"
import * as PubSubRedis from "../../src/layers/PubSubRedis.js"
import { PubSub } from "../../src/services/PubSub.js"
import { liveEnv, requireServers } from "../support/servers.js"
import { eventLogContract } from "../layers/EventLog.contract.js"
import { metricsStoreContract } from "../layers/MetricsStore.contract.js"
import { notificationStoreContract } from "../layers/NotificationStore.contract.js"
import { objectStoreContract } from "../layers/ObjectStore.contract.js"
import { pubSubContract } from "../layers/PubSub.contract.js"
import { unique } from "../support/unique.js"
import { kafkaLayer } from "./kafka-support.js"

/**
 * The contract suites of test/layers/ on the live layers (test/layers/memory.test.ts runs them on the
 * in-memory ones). Fresh tables and bucket per run, so runs never see each other's data; every EventLog
 * test names its own topics and groups, so runs can share the broker.
 */
const env = inject("liveEnv") ?? liveEnv()
await requireServers(["kafka", "redis", "dynamodb", "s3"], env)

const run = randomUUID().replaceAll("-", "").slice(0, 12)
const aws = {
  endpoint: env.DYNAMODB_ENDPOINT,
  region: env.AWS_REGION,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }
}

notificationStoreContract(
  "NotificationStore (DynamoDB)",
  NotificationStoreDynamo.layer({
    ...aws,
    tableName: `test-${run}-notifications`,
    countersTableName: `test-${run}-notification-counters`
  })
)
metricsStoreContract("MetricsStore (DynamoDB)", MetricsStoreDynamo.layer({ ...aws, tableName: `test-${run}-metrics` }))
objectStoreContract(
  "ObjectStore (S3)",
  ObjectStoreS3.layer({ ...aws, endpoint: env.S3_ENDPOINT, bucket: `product-events-test-${run}` })
)
pubSubContract("PubSub (Redis)", PubSubRedis.layer({ url: env.REDIS_URL }))

describe("PubSub (Redis) connection loss", () => {
  layer(PubSubRedis.layer({ url: env.REDIS_URL }), { excludeTestServices: true })((it) => {
    it.scoped("after the subscriber connection is killed, it resubscribes and receives again", () =>
      Effect.gen(function*() {
        const pubsub = yield* PubSub
        const channel = unique("channel")
        const messages = yield* pubsub.subscribe(channel)
        const admin = yield* Effect.acquireRelease(
          Effect.sync(() => new Redis(env.REDIS_URL)),
          (redis) => Effect.promise(() => redis.quit())
        )
        const killed = yield* Effect.promise(() => admin.client("KILL", "TYPE", "pubsub"))
        expect(Number(killed)).toBeGreaterThan(0)
        // Messages published while the subscriber is away are lost (Pub/Sub): publish until one arrives.
        yield* Effect.forkScoped(
          pubsub.publish(channel, "after the kill").pipe(Effect.repeat(Schedule.spaced(Duration.millis(100))))
        )
        const first = yield* Stream.runHead(messages).pipe(Effect.timeout(Duration.seconds(10)))
        expect(first).toEqual(Option.some("after the kill"))
      }))
  })
})

// Last: after @effect/vitest's top-level `layer()` (which this suite calls, without test services)
// the shared `it.layer` nests in that layer, so suites registered later would lose their TestClock.
eventLogContract("kafka", kafkaLayer())
