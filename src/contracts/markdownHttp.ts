// The HTTP section of event-contracts.md: routes, auth, payloads, SSE frames, errors; from src/domain/.
import { JSONSchema, Schema } from "effect"
import { problemDescriptions, problemParts, problemStatus, Unavailable } from "../domain/HttpErrors.js"
import { NotificationPage, ProductEventsApi, sseFrameDescription } from "../domain/HttpApi.js"
import { StoredNotification } from "../domain/Notification.js"
import { toNotification } from "../domain/Notify.js"
import { ProductEvent } from "../domain/ProductEvent.js"
import { notificationFrame, retryFrame } from "../domain/SseFrame.js"
import { SellerMetrics } from "../domain/SellerMetrics.js"
import { eventExamples } from "./examples.js"
import { fieldRows, fieldsTable } from "./fieldsTable.js"
import { renderOpenApi } from "./openapi.js"
import type { JsonSchema } from "./schemaTree.js"

const json = (u: unknown) => ["```json", JSON.stringify(u, null, 2), "```"].join("\n")

/** The field table of a schema with an identifier, as the event tables are made. */
const fieldsOf = (schema: Schema.Schema.Any, name: string) => {
  const root = JSONSchema.make(schema) as unknown as JsonSchema
  return fieldsTable(fieldRows(root, { $ref: `#/$defs/${name}` }))
}

type Operation = { readonly responses: Record<string, unknown>; readonly security?: ReadonlyArray<Record<string, unknown>> }

const routes = () => {
  const spec = renderOpenApi() as unknown as { paths: Record<string, Record<string, Operation>> }
  const rows = Object.values(ProductEventsApi.groups).flatMap((group) =>
    Object.values(group.endpoints).map((endpoint) => {
      const path = endpoint.path.replace(/:(\w+)/g, "{$1}")
      const operation = spec.paths[path]![endpoint.method.toLowerCase()]!
      const auth = (operation.security ?? []).map((s) => Object.keys(s)[0]).join(" or ") || "none"
      const statuses = Object.keys(operation.responses).join(", ")
      return `| ${group.identifier} | \`${endpoint.method} ${path}\` | ${auth} | ${statuses} |`
    })
  )
  return ["| group | route | credentials | statuses |", "|---|---|---|---|", ...rows]
}

const exampleNotification = () => {
  const event = Schema.decodeUnknownSync(ProductEvent)(eventExamples("LowStockWarning")[0])
  return new StoredNotification({ ...toNotification(event), seq: 42 })
}

/** The HTTP side of the contract (its machine-readable form is `openapi.json`). */
export const httpSection = (): ReadonlyArray<string> => {
  const notification = exampleNotification()
  return [
    "## HTTP API",
    "",
    "`openapi.json` (OpenAPI 3.1) is the machine-readable contract of every route below, generated from the same",
    "Schemas (`src/domain/HttpApi.ts`) and drift-checked with the rest; every program serves an interactive",
    "reference of its own routes at `/docs`. The ingest gateway serves `events`, notification-service",
    "`notifications`, analytics-service `metrics`; each serves `health`; the embedded program all of them.",
    "notification-service and the embedded program also serve the seller dashboard at `/dashboard`: static pages",
    "over these routes (the notification list and stream, the metrics), outside this contract like `/docs`.",
    "",
    ...routes(),
    "",
    "### Authentication",
    "",
    "- `Authorization: Bearer <JWT>`, verified one of two ways. Production: `AUTH_JWKS_URL` names the identity",
    "  provider's JSON Web Key Set; RS256, ES256 and EdDSA tokens signed by one of its keys (by `kid`) are accepted,",
    "  nothing else (no HS256, no `alg: none`). The set is cached and fetched again for an unknown `kid`; while it",
    "  cannot be fetched, requests that need it get 503 with `retry-after`. Development and tests: HS256 signed with",
    "  `AUTH_JWT_SECRET` (at least 32 characters; a program refuses to start with a shorter one). Unset, the",
    "  documented dev secret is used and a warning is logged: fine on a laptop, never in production.",
    "- The token must carry `exp`; with `AUTH_ISSUER` / `AUTH_AUDIENCE` set, also that `iss` / `aud`.",
    "- Claims: `sellerId` (the seller whose data the token reads and whose events it may publish) and optionally",
    "  `role: \"service\"` (may publish any seller's events).",
    "- The notification stream also takes the token as `?access_token=` (browsers' EventSource cannot set",
    "  headers); no other route does. Access logs redact it.",
    "- 401 (with `www-authenticate: Bearer`) without a valid token; 403 for another seller's data.",
    "- Limits, per server process: `SSE_MAX_STREAMS_PER_SELLER` concurrent streams per seller (default 20) and",
    "  `GATEWAY_RATE_LIMIT` events per second per publishing token on `POST /events` (default 5000, a second's worth",
    "  in a burst); over either, 429 with `retry-after`.",
    "",
    "### Notifications",
    "",
    "What a seller is told about one event (`StoredNotification`); `id` is the eventId, `seq` orders a seller's",
    "notifications as they were consumed: it only grows, with gaps (seqs are drawn in blocks; a restart or",
    "rebalance leaves some unused), so order by it and never count on the next one being `seq + 1`.",
    "`GET /sellers/{sellerId}/notifications` pages them newest first (`NotificationPage`: `items`, `nextCursor`).",
    "",
    fieldsOf(StoredNotification, "StoredNotification"),
    "",
    "Example (from the LowStockWarning example):",
    "",
    json(Schema.encodeSync(StoredNotification)(notification)),
    "",
    fieldsOf(NotificationPage, "NotificationPage"),
    "",
    "### The notification stream (Server-Sent Events)",
    "",
    "`GET /sellers/{sellerId}/notifications/stream`: " + sseFrameDescription,
    "",
    "The first bytes of a stream, then a frame:",
    "",
    "```",
    retryFrame(3000) + notificationFrame(notification).trimEnd(),
    "```",
    "",
    "- Severity: `urgent` for LowStockWarning, `info` otherwise.",
    "- A notification may be delivered again after a consumer's crash; a client drops an `id` it has seen.",
    "- Any number of notification-service processes may serve streams: each receives every notification",
    "  through Redis. A 503 at connection time (store or Redis unreachable) means: reconnect later.",
    "",
    "### Seller metrics",
    "",
    "`GET /sellers/{sellerId}/metrics?from=&to=` answers `SellerMetrics`. `from` and `to` are a calendar-valid UTC",
    "day `YYYY-MM-DD` or hour `YYYY-MM-DDTHH` (00-23), inclusive; anything else, or `from` after `to`, is 400.",
    "",
    fieldsOf(SellerMetrics, "SellerMetrics"),
    "",
    "### Errors",
    "",
    "Every error is JSON `{ error, reason, ... }`, `error` naming it; its status is fixed by its name:",
    "",
    "| status | error | meaning |",
    "|---|---|---|",
    ...Object.entries(problemStatus).map(([tag, status]) =>
      `| ${status} | \`${tag}\` | ${problemDescriptions[tag as keyof typeof problemStatus]} |`),
    "",
    "For example (with the header `retry-after: 5`):",
    "",
    json(problemParts(new Unavailable({ reason: "a dependency is unavailable; retry later", retryAfterSeconds: 5 })).body),
    "",
    "`POST /events` answers an invalid batch with one entry per issue of each invalid event in `errors`",
    "(`index` in the batch, `path` of the field, `message`), and publishes nothing of it. Bodies larger than",
    "`GATEWAY_MAX_BODY_BYTES` (1 MiB by default) get 413 whether or not they declare a Content-Length.",
    "",
    "### Edges",
    "",
    "- A path no route has: 404; a method the path lacks: 405 with `allow`; `OPTIONS`: 204 with `allow`.",
    "- CORS: the origins of `CORS_ORIGINS` (comma-separated, or `*`; none by default) get",
    "  `access-control-allow-origin` on every answer, the SSE stream included, and a preflight answer",
    "  (`authorization`, `content-type` and `last-event-id` may be sent; `retry-after`, `www-authenticate` and",
    "  `allow` may be read). Other origins get no CORS headers.",
    "- Bad input never yields a 5xx: a 500 is a defect of the server, logged."
  ]
}
