import { HttpRouter } from "@effect/platform"
import { Effect } from "effect"
import { healthRouter } from "../http/Health.js"
import { serve } from "../http/HttpLive.js"
import { readinessChecks } from "./Readiness.js"

/** Serves the given routers plus `/healthz`, `/readyz` (for every infrastructure service present) and `/metrics`. */
export const serveWithHealth = <E, R, E2, R2>(routers: Effect.Effect<HttpRouter.HttpRouter<E, R>, E2, R2>) =>
  serve(Effect.gen(function*() {
    return HttpRouter.concat(yield* routers, yield* Effect.flatMap(readinessChecks, healthRouter))
  }))
