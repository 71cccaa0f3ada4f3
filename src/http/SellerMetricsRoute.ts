import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { Caller, ProductEventsApi } from "../domain/HttpApi.js"
import { MetricsStore } from "../services/MetricsStore.js"
import { sellerMetrics } from "../services/MetricsView.js"
import { Auth } from "./Auth.js"
import { BadRequest, dependencyDown } from "./Problem.js"

/**
 * `GET /sellers/{sellerId}/metrics?from=&to=`: the seller's hot metrics (`sellerMetrics`), with the hourly
 * and daily buckets between `from` and `to` (inclusive, UTC, `YYYY-MM-DD` or `YYYY-MM-DDTHH`; all when absent).
 */
export const MetricsLive = HttpApiBuilder.group(ProductEventsApi, "metrics", (handlers) =>
  Effect.gen(function*() {
    const auth = yield* Auth
    const store = yield* MetricsStore

    return handlers.handle("sellerMetrics", ({ path: { sellerId }, urlParams: { from, to } }) =>
      Effect.gen(function*() {
        yield* Effect.flatMap(Caller, (claims) => auth.requireSeller(claims, sellerId))
        // A day and an hour compare on what both name: from=2026-11-26T05&to=2026-11-26 is that day from 05h.
        if (from !== undefined && to !== undefined && from.slice(0, to.length) > to.slice(0, from.length)) {
          return yield* new BadRequest({ reason: "from must not be after to" })
        }
        return yield* sellerMetrics(store, sellerId, { from, to }).pipe(Effect.catchTag("MetricsStoreError", (e) => dependencyDown(e)))
      }))
  }))
