import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { Caller, ProductEventsApi } from "../domain/HttpApi.js"
import { dayItemPrefix, hourItemPrefix, totalsItem } from "../domain/MetricsDelta.js"
import { fromStoreItems } from "../domain/SellerMetrics.js"
import { MetricsStore } from "../services/MetricsStore.js"
import { Auth } from "./Auth.js"
import { BadRequest, dependencyDown } from "./Problem.js"

/**
 * `GET /sellers/{sellerId}/metrics?from=&to=`: the seller's hot metrics, with the hourly and daily
 * buckets between `from` and `to` (inclusive, UTC, `YYYY-MM-DD` or `YYYY-MM-DDTHH`; all when absent).
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
        const range = (prefix: string, length: number) =>
          from === undefined && to === undefined
            ? store.query(sellerId, prefix)
            : store.query(sellerId, prefix, { from: (from ?? "0000").slice(0, length), to: (to ?? "9999").slice(0, length) + "\uffff" })
        // The day items hold their hours' counts too; hour items are those written before they did.
        const [totals, hourItems, days] = yield* Effect.all(
          [store.query(sellerId, totalsItem), range(hourItemPrefix, 13), range(dayItemPrefix, 10)],
          { concurrency: 3 }
        ).pipe(Effect.catchTag("MetricsStoreError", (e) => dependencyDown(e)))
        const metrics = fromStoreItems(sellerId, [...totals, ...hourItems, ...days])
        if (from === undefined && to === undefined) return metrics
        // A day in range brings all its hours: keep those in range (to the hour, when from or to names one).
        const first = (from ?? "0000").slice(0, 13)
        const last = (to ?? "9999").slice(0, 13) + "\uffff"
        return { ...metrics, hourly: metrics.hourly.filter(({ hour }) => hour >= first && hour <= last) }
      }))
  }))
