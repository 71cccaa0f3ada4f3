import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect, Schema } from "effect"
import { SellerId } from "../domain/Ids.js"
import { dayItemPrefix, hourItemPrefix, totalsItem } from "../domain/MetricsDelta.js"
import { fromStoreItems, SellerMetrics } from "../domain/SellerMetrics.js"
import { MetricsStore } from "../services/MetricsStore.js"
import { Auth } from "./Auth.js"
import { BadRequest, invalidQuery, problemResponse, unavailable } from "./Problem.js"

const Hour = Schema.String.pipe(
  Schema.pattern(/^\d{4}-\d{2}-\d{2}(T\d{2})?$/, { message: () => "must be YYYY-MM-DD or YYYY-MM-DDTHH (UTC)" })
)
const RangeQuery = Schema.Struct({ from: Schema.optionalWith(Hour, { exact: true }), to: Schema.optionalWith(Hour, { exact: true }) })

const encodeMetrics = Schema.encodeSync(SellerMetrics)

/**
 * `GET /sellers/{sellerId}/metrics?from=&to=`: the seller's hot metrics, with the hourly and daily
 * buckets between `from` and `to` (inclusive, UTC, `YYYY-MM-DD` or `YYYY-MM-DDTHH`; all when absent).
 */
export const sellerMetricsRouter = Effect.gen(function*() {
  const auth = yield* Auth
  const store = yield* MetricsStore

  const metrics = Effect.gen(function*() {
    const { sellerId } = yield* HttpRouter.schemaPathParams(Schema.Struct({ sellerId: SellerId })).pipe(
      Effect.mapError(() => new BadRequest({ reason: "sellerId must be 1-64 characters of A-Z, a-z, 0-9 or _" }))
    )
    yield* auth.requireSeller(sellerId)
    const { from, to } = yield* HttpServerRequest.schemaSearchParams(RangeQuery).pipe(
      Effect.mapError(invalidQuery)
    )
    // A day and an hour compare on what both name: from=2026-11-26T05&to=2026-11-26 is that day from 05h.
    if (from !== undefined && to !== undefined && from.slice(0, to.length) > to.slice(0, from.length)) {
      return yield* new BadRequest({ reason: "from must not be after to" })
    }
    const range = (prefix: string, length: number) =>
      from === undefined && to === undefined
        ? store.query(sellerId, prefix)
        : store.query(sellerId, prefix, { from: (from ?? "0000").slice(0, length), to: (to ?? "9999").slice(0, length) + "\uffff" })
    const [totals, hourly, daily] = yield* Effect.all(
      [store.query(sellerId, totalsItem), range(hourItemPrefix, 13), range(dayItemPrefix, 10)],
      { concurrency: 3 }
    )
    return HttpServerResponse.unsafeJson(encodeMetrics(fromStoreItems(sellerId, [...totals, ...hourly, ...daily])))
  })

  return HttpRouter.empty.pipe(
    HttpRouter.get(
      "/sellers/:sellerId/metrics",
      metrics.pipe(Effect.catchTags({
        BadRequest: problemResponse,
        Unauthorized: problemResponse,
        Forbidden: problemResponse,
        MetricsStoreError: unavailable
      }))
    )
  )
})
