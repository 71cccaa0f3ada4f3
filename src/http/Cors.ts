import { Config, Effect } from "effect"

const origin = /^https?:\/\/[^/\s]+$/

/** `CORS_ORIGINS`: origins allowed to call the API from a browser, comma-separated, or `*`; none by default. */
export const CorsOrigins: Config.Config<ReadonlyArray<string>> = Config.string("CORS_ORIGINS").pipe(
  Config.map((s) => s.split(",").map((o) => o.trim()).filter((o) => o.length > 0)),
  Config.validate({
    message: "CORS_ORIGINS must be `*` or origins such as https://shop.example.com, comma-separated",
    validation: (origins) => origins.every((o) => o === "*" || origin.test(o))
  }),
  Config.withDefault([])
)

/** Request headers a browser may send cross-origin, and response headers it may read. */
const allowHeaders = "authorization, content-type, last-event-id"
const exposeHeaders = "retry-after, www-authenticate, allow"

/**
 * CORS in plain code, for the router and for the SSE stream served ahead of it: an allowed origin
 * gets `access-control-allow-origin` (itself, never `*` with credentials), others nothing.
 */
export class Cors extends Effect.Service<Cors>()("product-events/Cors", {
  effect: Effect.map(CorsOrigins, (origins) => {
    const any = origins.includes("*")
    const allowed = new Set(origins)
    const none: Record<string, string> = {}
    const isAllowed = (requestOrigin: string | undefined): requestOrigin is string =>
      requestOrigin !== undefined && (any || allowed.has(requestOrigin))

    /** Headers of an actual (non-preflight) response. */
    const headersFor = (requestOrigin: string | undefined): Record<string, string> =>
      isAllowed(requestOrigin)
        ? { "access-control-allow-origin": any ? "*" : requestOrigin, "access-control-expose-headers": exposeHeaders, vary: "Origin" }
        : origins.length > 0 ? { vary: "Origin" } : none

    /** Headers of a preflight answer for a path with these methods. */
    const preflight = (requestOrigin: string | undefined, methods: ReadonlyArray<string>): Record<string, string> =>
      isAllowed(requestOrigin)
        ? {
          "access-control-allow-origin": any ? "*" : requestOrigin,
          "access-control-allow-methods": methods.join(", "),
          "access-control-allow-headers": allowHeaders,
          "access-control-max-age": "600",
          vary: "Origin"
        }
        : none

    return { origins, headersFor, preflight } as const
  })
}) {}
