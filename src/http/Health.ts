import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { Context, Duration, Effect, Layer } from "effect"
import { ProductEventsApi } from "../domain/HttpApi.js"
import { Metrics } from "../services/Metrics.js"

export interface ReadinessCheck {
  readonly name: string
  readonly check: Effect.Effect<void, unknown>
}

/** What `/readyz` checks: every dependency of the running program. */
export class ReadinessChecks extends Context.Tag("product-events/ReadinessChecks")<ReadinessChecks, ReadonlyArray<ReadinessCheck>>() {
  static readonly layer = (checks: Effect.Effect<ReadonlyArray<ReadinessCheck>>) => Layer.effect(ReadinessChecks, checks)
}

const checkTimeout = Duration.seconds(2)

/** `/healthz` (alive), `/readyz` (every dependency answers within 2 s), `/metrics` (Prometheus text). */
export const HealthLive = HttpApiBuilder.group(ProductEventsApi, "health", (handlers) =>
  Effect.gen(function*() {
    const metrics = yield* Metrics
    const checks = yield* ReadinessChecks
    const readyz = Effect.forEach(
      checks,
      ({ check, name }) =>
        check.pipe(
          Effect.timeoutFail({ duration: checkTimeout, onTimeout: () => "timed out" }),
          Effect.match({ onFailure: (e) => [name, `down: ${String(e)}`] as const, onSuccess: () => [name, "up"] as const })
        ),
      { concurrency: "unbounded" }
    ).pipe(
      Effect.map((results) => {
        const ready = results.every(([, status]) => status === "up")
        return HttpServerResponse.unsafeJson(
          { status: ready ? "ready" : "not ready", checks: Object.fromEntries(results) },
          { status: ready ? 200 : 503 }
        )
      })
    )
    return handlers
      .handle("healthz", () => Effect.succeed({ status: "ok" as const }))
      .handleRaw("readyz", () => readyz)
      .handleRaw("metrics", () =>
        Effect.map(metrics.render, (body) => HttpServerResponse.text(body, { contentType: metrics.contentType })))
  }))
