import { HttpApiBuilder, type HttpApp, type HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Redacted, Ref, TestClock } from "effect"
import { productEventsTopic } from "../../src/domain/Consumers.js"
import { GatewayApi } from "../../src/domain/HttpApi.js"
import { AuthLive } from "../../src/http/Auth.js"
import { Cors } from "../../src/http/Cors.js"
import { EventsLive } from "../../src/http/Gateway.js"
import { HealthLive, ReadinessChecks } from "../../src/http/Health.js"
import { ApiSupport, apiApp } from "../../src/http/HttpLive.js"
import * as EventLogMemory from "../../src/layers/EventLogMemory.js"
import { EventLog } from "../../src/services/EventLog.js"
import { Metrics } from "../../src/services/Metrics.js"
import { devJwtSecret, signToken } from "../../src/services/Tokens.js"
import { created, encode } from "../support/events.js"

/** An event log that never acknowledges while `down` is set, as Kafka out of reach. */
const switchable = Effect.gen(function*() {
  const down = yield* Ref.make(false)
  const memory = yield* EventLogMemory.make({ topics: { [productEventsTopic]: 12 } })
  const log = EventLog.of({
    ...memory,
    produce: (topic, messages) =>
      Effect.flatMap(Ref.get(down), (isDown) => (isDown ? Effect.never : memory.produce(topic, messages)))
  })
  return { down, log }
})

let n = 0
const post = (router: HttpApp.Default<never, HttpRouter.HttpRouter.DefaultServices | HttpServerRequest.HttpServerRequest>, token: string) =>
  Effect.gen(function*() {
    const request = new Request("http://gateway/events", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(encode(created("seller_1", `p${n}`, Date.parse("2026-11-26T20:00:00.000Z") + n++)))
    })
    const response = yield* router.pipe(
      Effect.provideService(HttpServerRequest.HttpServerRequest, HttpServerRequest.fromWeb(request)),
      Effect.catchAll(() => Effect.succeed(HttpServerResponse.empty({ status: 599 }))),
      Effect.provide(NodeHttpServer.layerContext),
      Effect.scoped
    )
    return { status: response.status, retryAfter: response.headers["retry-after"] }
  })

describe("POST /events while the event log does not answer", () => {
  it.effect("503 with retry-after after the produce timeout; then at once while the breaker is open; 202 once a probe succeeds", () =>
    Effect.gen(function*() {
      const { down, log } = yield* switchable
      const router = yield* apiApp(GatewayApi).pipe(
        Effect.provide(
          ApiSupport.pipe(
            Layer.provideMerge(HttpApiBuilder.api(GatewayApi)),
            Layer.provide(Layer.mergeAll(EventsLive, HealthLive)),
            Layer.provideMerge(Layer.mergeAll(AuthLive, Cors.Default, ReadinessChecks.layer(Effect.succeed([])))),
            Layer.provide(Layer.mergeAll(Layer.succeed(EventLog, log), Metrics.Default))
          )
        ),
        Effect.orDie
      )
      const token = yield* signToken(Redacted.make(devJwtSecret), { role: "service" })
      expect((yield* post(router, token)).status).toBe(202)

      yield* Ref.set(down, true)
      // The default failure threshold: three produce timeouts of 1 s each, each a 503.
      for (let i = 0; i < 3; i++) {
        const pending = yield* Effect.fork(post(router, token))
        yield* TestClock.adjust("1 second")
        expect(yield* Fiber.join(pending)).toEqual({ status: 503, retryAfter: "5" })
      }
      // Open: answered at once, without the clock moving.
      expect(yield* post(router, token)).toEqual({ status: 503, retryAfter: "1" })

      yield* Ref.set(down, false)
      yield* TestClock.adjust("1 second")
      expect((yield* post(router, token)).status).toBe(202)
      expect((yield* post(router, token)).status).toBe(202)
    }))
})
