import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { Duration, Effect } from "effect"
import { Metrics } from "../services/Metrics.js"

export interface ReadinessCheck {
  readonly name: string
  readonly check: Effect.Effect<void, unknown>
}

const checkTimeout = Duration.seconds(2)

/** `/healthz` (alive), `/readyz` (every dependency answers within 2 s), `/metrics` (Prometheus text). */
export const healthRouter = (checks: ReadonlyArray<ReadinessCheck>) =>
  Effect.gen(function*() {
    const metrics = yield* Metrics
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
    return HttpRouter.empty.pipe(
      HttpRouter.get("/healthz", HttpServerResponse.unsafeJson({ status: "ok" })),
      HttpRouter.get("/readyz", readyz),
      HttpRouter.get(
        "/metrics",
        Effect.map(metrics.render, (body) => HttpServerResponse.text(body, { contentType: metrics.contentType }))
      )
    )
  })
