import { Headers, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Config, Effect, Option, Schema } from "effect"
import { SellerId } from "../domain/Ids.js"
import { storedNotificationJson } from "../domain/Notification.js"
import { NotificationHub } from "../services/NotificationHub.js"
import { NotificationStore } from "../services/NotificationStore.js"
import { Auth } from "./Auth.js"
import { BadRequest, invalidQuery, problemResponse, unavailable } from "./Problem.js"
import { NodeRoutes } from "./Listener.js"
import { sseBody, sseHeaders } from "./SseResponse.js"
import { makeStreamRoute } from "./SseRoute.js"

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
  const hub = yield* NotificationHub
  const maxBuffered = yield* Config.integer("SSE_MAX_BUFFERED_BYTES").pipe(Config.withDefault(64 * 1024))
  // Where the listener can serve it on Node's objects, the stream is served there (see SseRoute.ts).
  const nodeRoutes = yield* Effect.serviceOption(NodeRoutes)
  if (Option.isSome(nodeRoutes)) nodeRoutes.value.add(yield* makeStreamRoute)

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
    // The response is returned once the live subscription is open; a failure before that is a 503.
    const { body, sink } = sseBody(NodeHttpServerRequest.toServerResponse(request), 3000, maxBuffered)
    const subscription = yield* hub.open(sellerId, lastEventId, sink)
    // Ends with the response: ended by the hub, or the client gone.
    body.once("close", subscription.unsafeClose)
    return HttpServerResponse.raw(body, { contentType: "text/event-stream", headers: Headers.fromInput(sseHeaders) })
  })

  const clientErrors = { BadRequest: problemResponse, Unauthorized: problemResponse, Forbidden: problemResponse }

  return HttpRouter.empty.pipe(
    HttpRouter.get(
      "/sellers/:sellerId/notifications",
      list.pipe(Effect.catchTags({ ...clientErrors, NotificationStoreError: unavailable }))
    ),
    HttpRouter.get(
      "/sellers/:sellerId/notifications/stream",
      stream.pipe(Effect.catchTags({ ...clientErrors, NotificationStoreError: unavailable, PubSubError: unavailable }))
    )
  )
})
