import { Headers, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Config, Effect, Option, Schema, Stream } from "effect"
import { SellerId } from "../domain/Ids.js"
import { storedNotificationJson } from "../domain/Notification.js"
import { NotificationFeed } from "../services/NotificationFeed.js"
import { NotificationStore } from "../services/NotificationStore.js"
import { Auth } from "./Auth.js"
import { BadRequest, invalidQuery, problemResponse, unavailable } from "./Problem.js"
import { sseBody } from "./Sse.js"

const SellerPath = Schema.Struct({ sellerId: SellerId })

const ListQuery = Schema.Struct({
  limit: Schema.optionalWith(
    Schema.NumberFromString.pipe(
      Schema.int(),
      Schema.between(1, 200),
      Schema.annotations({ message: () => ({ message: "must be an integer from 1 to 200", override: true }) })
    ),
    { exact: true }
  ),
  cursor: Schema.optionalWith(
    Schema.String.pipe(Schema.pattern(/^[1-9][0-9]{0,15}$/, { message: () => "is not a cursor from a previous page" })),
    { exact: true }
  )
})

const sellerFromPath = HttpRouter.schemaPathParams(SellerPath).pipe(
  Effect.mapError(() => new BadRequest({ reason: "sellerId must be 1-64 characters of A-Z, a-z, 0-9 or _" }))
)

/** The seller's stored notifications (newest first, cursor paging) and the live SSE stream. */
export const notificationsRouter = Effect.gen(function*() {
  const auth = yield* Auth
  const store = yield* NotificationStore
  const feed = yield* NotificationFeed
  const heartbeat = yield* Config.duration("SSE_HEARTBEAT").pipe(Config.withDefault("15 seconds"))

  const list = Effect.gen(function*() {
    const { sellerId } = yield* sellerFromPath
    yield* auth.requireSeller(sellerId)
    const query = yield* HttpServerRequest.schemaSearchParams(ListQuery).pipe(Effect.mapError(invalidQuery))
    const limit = query.limit ?? 50
    const page = yield* store.list(sellerId, {
      limit,
      order: "desc",
      ...(query.cursor === undefined ? {} : { beforeSeq: Number(query.cursor) })
    })
    const last = page[page.length - 1]
    return HttpServerResponse.unsafeJson({
      items: page.map((n) => storedNotificationJson(n)),
      nextCursor: page.length === limit && last !== undefined && last.seq > 1 ? String(last.seq) : null
    })
  })

  const stream = Effect.gen(function*() {
    const { sellerId } = yield* sellerFromPath
    yield* auth.requireSeller(sellerId, { allowQueryToken: true })
    const request = yield* HttpServerRequest.HttpServerRequest
    const lastEventId = Headers.get(request.headers, "last-event-id").pipe(
      Option.orElse(() => Option.fromNullable(new URL(request.url, "http://localhost").searchParams.get("lastEventId"))),
      Option.filter((id) => id.length > 0)
    )
    // The first bytes (and the headers with them) go out once the live subscription is open.
    const body = Stream.unwrapScoped(
      Effect.map(feed.open(sellerId, lastEventId), (notifications) => sseBody(notifications, { heartbeat, retryMillis: 3000 }))
    ).pipe(
      Stream.tapErrorCause((cause) => Effect.logWarning("notification stream ended", cause)),
      Stream.encodeText
    )
    return HttpServerResponse.stream(body, {
      contentType: "text/event-stream",
      headers: Headers.fromInput({ "cache-control": "no-cache", "x-accel-buffering": "no", connection: "keep-alive" })
    })
  })

  const clientErrors = { BadRequest: problemResponse, Unauthorized: problemResponse, Forbidden: problemResponse }

  return HttpRouter.empty.pipe(
    HttpRouter.get(
      "/sellers/:sellerId/notifications",
      list.pipe(Effect.catchTags({ ...clientErrors, NotificationStoreError: unavailable }))
    ),
    HttpRouter.get("/sellers/:sellerId/notifications/stream", stream.pipe(Effect.catchTags(clientErrors)))
  )
})
