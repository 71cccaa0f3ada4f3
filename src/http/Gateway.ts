import { HttpApiBuilder, type HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect, Option } from "effect"
import { Caller, ProductEventsApi } from "../domain/HttpApi.js"
import { readJson } from "./Body.js"
import { makeEventsRoute } from "./EventsRoute.js"
import { NodeRoutes } from "./Listener.js"
import { bearerToken, makePublisher } from "./Publisher.js"

/** `POST /events`: validate all, publish all keyed by sellerId, or publish nothing. */
export const EventsLive = HttpApiBuilder.group(ProductEventsApi, "events", (handlers) =>
  Effect.gen(function*() {
    const publisher = yield* makePublisher
    // Where the listener can serve it on Node's objects, POST /events is served there (see EventsRoute.ts),
    // with the same publisher (one rate limit, one breaker); the handler below serves servers without it.
    const nodeRoutes = yield* Effect.serviceOption(NodeRoutes)
    if (Option.isSome(nodeRoutes)) nodeRoutes.value.add(yield* makeEventsRoute(publisher))

    const publish = (request: HttpServerRequest.HttpServerRequest) =>
      Effect.flatMap(Caller, (claims) =>
        Effect.flatMap(readJson(request, publisher.maxBodyBytes), (body) =>
          publisher.publish(claims, bearerToken(request.headers.authorization), body))).pipe(
          Effect.map((accepted) => HttpServerResponse.unsafeJson({ accepted }, { status: 202 }))
        )

    return handlers.handleRaw("publish", ({ request }) => publish(request))
  }))
