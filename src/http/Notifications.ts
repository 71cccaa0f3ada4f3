import { Headers, HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Effect, Option } from "effect"
import { Caller, ProductEventsApi } from "../domain/HttpApi.js"
import { NotificationHub } from "../services/NotificationHub.js"
import { NotificationStore } from "../services/NotificationStore.js"
import { positiveInteger } from "../services/Settings.js"
import { Auth } from "./Auth.js"
import { NodeRoutes } from "./Listener.js"
import { dependencyDown } from "./Problem.js"
import { sseBody, sseHeaders, tooManyStreams } from "./SseResponse.js"
import { makeStreamRoute } from "./SseRoute.js"

/** The seller's stored notifications (newest first, cursor paging) and the live SSE stream. */
export const NotificationsLive = HttpApiBuilder.group(ProductEventsApi, "notifications", (handlers) =>
  Effect.gen(function*() {
    const auth = yield* Auth
    const store = yield* NotificationStore
    const hub = yield* NotificationHub
    const maxBuffered = yield* positiveInteger("SSE_MAX_BUFFERED_BYTES", 64 * 1024)
    // Where the listener can serve it on Node's objects, the stream is served there (see SseRoute.ts);
    // the handler below serves it on servers without that listener.
    const nodeRoutes = yield* Effect.serviceOption(NodeRoutes)
    if (Option.isSome(nodeRoutes)) nodeRoutes.value.add(yield* makeStreamRoute)

    return handlers
      .handle("list", ({ path: { sellerId }, urlParams }) =>
        Effect.gen(function*() {
          const claims = yield* Caller
          yield* auth.requireSeller(claims, sellerId)
          const limit = urlParams.limit ?? 50
          const page = yield* store.list(sellerId, {
            limit,
            order: "desc",
            ...(urlParams.cursor === undefined ? {} : { beforeSeq: Number(urlParams.cursor) })
          }).pipe(Effect.catchTag("NotificationStoreError", (e) => dependencyDown(e)))
          const last = page[page.length - 1]
          return {
            items: page,
            nextCursor: page.length === limit && last !== undefined && last.seq > 1 ? String(last.seq) : null
          }
        }))
      .handleRaw("stream", ({ path: { sellerId }, request }) =>
        Effect.gen(function*() {
          const claims = yield* Caller
          yield* auth.requireSeller(claims, sellerId)
          const lastEventId = Headers.get(request.headers, "last-event-id").pipe(
            Option.orElse(() => Option.fromNullable(new URL(request.url, "http://localhost").searchParams.get("lastEventId"))),
            Option.filter((id) => id.length > 0)
          )
          // HEAD: the stream's headers, and no subscription (nor a slot of the seller's) for a body never sent.
          if (request.method === "HEAD") {
            return HttpServerResponse.empty({ status: 200, headers: Headers.fromInput({ "content-type": "text/event-stream", ...sseHeaders }) })
          }
          // The response is returned once the live subscription is open; a failure before that is a 503.
          const { body, sink } = sseBody(NodeHttpServerRequest.toServerResponse(request), 3000, maxBuffered)
          const subscription = yield* hub.open(sellerId, lastEventId, sink, { expiresAt: claims.exp }).pipe(
            Effect.catchTags({
              NotificationStoreError: (e) => dependencyDown(e),
              PubSubError: (e) => dependencyDown(e),
              StreamLimitReached: tooManyStreams
            })
          )
          // Ends with the response: ended by the hub, or the client gone.
          body.once("close", subscription.unsafeClose)
          return HttpServerResponse.raw(body, { contentType: "text/event-stream", headers: Headers.fromInput(sseHeaders) })
        }))
  }))
