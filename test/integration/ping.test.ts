import { describe, expect, inject, it } from "@effect/vitest"
import { randomUUID } from "node:crypto"
import { Context, Duration, Effect, Layer, Schedule, type Scope } from "effect"
import * as MetricsStoreDynamo from "../../src/layers/MetricsStoreDynamo.js"
import * as NotificationStoreDynamo from "../../src/layers/NotificationStoreDynamo.js"
import * as ObjectStoreS3 from "../../src/layers/ObjectStoreS3.js"
import * as PubSubRedis from "../../src/layers/PubSubRedis.js"
import { MetricsStore } from "../../src/services/MetricsStore.js"
import { NotificationStore } from "../../src/services/NotificationStore.js"
import { ObjectStore } from "../../src/services/ObjectStore.js"
import { PubSub } from "../../src/services/PubSub.js"
import { type FaultProxy, startFaultProxy } from "../support/faultProxy.js"
import { endpoints, liveEnv, requireServers, type ServerName } from "../support/servers.js"

/**
 * `ping` is what readiness (`/readyz`) asks each live layer: it must answer for the server behind the
 * layer, not for the layer object. Each layer talks to its server through a fault proxy: ping succeeds,
 * fails with the service's error while the proxy resets connections, and succeeds again after.
 * (The in-memory layers' ping has nothing to check: `Effect.void`.)
 */
const env = inject("liveEnv") ?? liveEnv()
await requireServers(["redis", "dynamodb", "s3"], env)

const run = randomUUID().replaceAll("-", "").slice(0, 12)
const aws = {
  region: env.AWS_REGION,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }
}

interface Pingable {
  readonly ping: Effect.Effect<void, { readonly _tag: string }>
}

const cases: ReadonlyArray<{
  readonly name: string
  readonly server: ServerName
  readonly error: string
  readonly ping: (proxy: FaultProxy) => Effect.Effect<Pingable["ping"], unknown, Scope.Scope>
}> = [
  {
    name: "NotificationStore (DynamoDB)",
    server: "dynamodb",
    error: "NotificationStoreError",
    ping: (proxy) =>
      pingOf(
        NotificationStore,
        NotificationStoreDynamo.layer({
          ...aws,
          endpoint: proxy.url,
          tableName: `test-${run}-notifications`,
          countersTableName: `test-${run}-notification-counters`
        })
      )
  },
  {
    name: "MetricsStore (DynamoDB)",
    server: "dynamodb",
    error: "MetricsStoreError",
    ping: (proxy) => pingOf(MetricsStore, MetricsStoreDynamo.layer({ ...aws, endpoint: proxy.url, tableName: `test-${run}-metrics` }))
  },
  {
    name: "ObjectStore (S3)",
    server: "s3",
    error: "ObjectStoreError",
    ping: (proxy) => pingOf(ObjectStore, ObjectStoreS3.layer({ ...aws, endpoint: proxy.url, bucket: `product-events-test-${run}` }))
  },
  {
    name: "PubSub (Redis)",
    server: "redis",
    error: "PubSubError",
    ping: (proxy) => pingOf(PubSub, PubSubRedis.layer({ url: `redis://127.0.0.1:${proxy.port}` }))
  }
]

/** Builds `layer` in the surrounding scope and returns its service's ping. */
function pingOf<I, S extends Pingable, E>(tag: Context.Tag<I, S>, layer: Layer.Layer<I, E>) {
  return Effect.map(Layer.build(layer), (context) => Context.get(context, tag).ping)
}

describe("ping of the live layers", () => {
  for (const { error, name, ping: pingVia, server } of cases) {
    it.scopedLive(`${name}: succeeds while the server answers, fails with ${error} while it does not, then recovers`, () =>
      Effect.gen(function*() {
        const proxy = yield* Effect.acquireRelease(
          Effect.promise(() => startFaultProxy(endpoints(env).find((e) => e.name === server)!)),
          (proxy) => Effect.promise(() => proxy.close())
        )
        const ping = yield* pingVia(proxy)
        yield* ping

        proxy.pause()
        const failure = yield* Effect.flip(ping).pipe(Effect.timeout(Duration.seconds(20)))
        expect(failure._tag).toBe(error)
        expect(proxy.refused()).toBeGreaterThan(0)

        proxy.resume()
        yield* ping.pipe(Effect.retry(Schedule.spaced(Duration.millis(200))), Effect.timeout(Duration.seconds(20)))
      }), 60_000)
  }
})
