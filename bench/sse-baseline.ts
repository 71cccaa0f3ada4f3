/**
 * The baseline of `npm run bench:sse`: a minimal SSE broadcaster on bare `node:http` (no Effect, no
 * store, no pub/sub). Same routes as the services: `GET /sellers/:id/notifications/stream` with an
 * HS256 bearer check, `POST /events` publishing each event in-process to its seller's subscribers,
 * `GET /readyz`. Usage: `node --import tsx bench/sse-baseline.ts` with env PORT, AUTH_JWT_SECRET.
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { createServer, type ServerResponse } from "node:http"

const port = Number(process.env["PORT"] ?? 3100)
const secret = process.env["AUTH_JWT_SECRET"] ?? "product-events-dev-secret-change-me"
const subscribers = new Map<string, Set<ServerResponse>>()
const streamPath = /^\/sellers\/([A-Za-z0-9_]{1,64})\/notifications\/stream(?:\?|$)/

const claimsOf = (token: string): { sellerId?: string; exp?: number } | undefined => {
  const [header, payload, signature] = token.split(".")
  if (header === undefined || payload === undefined || signature === undefined) return undefined
  const expected = createHmac("sha256", secret).update(`${header}.${payload}`).digest()
  const given = Buffer.from(signature, "base64url")
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { sellerId?: string; exp?: number }
  return claims.exp !== undefined && claims.exp * 1000 > Date.now() ? claims : undefined
}

const server = createServer({ noDelay: true }, (request, response) => {
  const url = request.url ?? "/"
  const stream = request.method === "GET" ? streamPath.exec(url) : null
  if (stream !== null) {
    const sellerId = stream[1]!
    const claims = claimsOf(/^Bearer (\S+)$/.exec(request.headers.authorization ?? "")?.[1] ?? "")
    if (claims === undefined) return void response.writeHead(401).end()
    if (claims.sellerId !== sellerId) return void response.writeHead(403).end()
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" })
    response.write("retry: 3000\n\n")
    let set = subscribers.get(sellerId)
    if (set === undefined) subscribers.set(sellerId, (set = new Set()))
    set.add(response)
    response.on("close", () => set.delete(response))
    return
  }
  if (request.method === "POST" && url === "/events") {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown
      const events = (Array.isArray(body) ? body : [body]) as Array<{ eventId: string; eventType: string; timestamp: string; data: { sellerId: string; productId: string } }>
      response.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ accepted: events.map((e) => e.eventId) }))
      for (const event of events) {
        const notification = {
          id: event.eventId,
          sellerId: event.data.sellerId,
          productId: event.data.productId,
          eventType: event.eventType,
          severity: "info",
          title: "Product listed",
          body: `${event.data.productId} is now listed`,
          occurredAt: event.timestamp
        }
        const frame = Buffer.from(`id: ${event.eventId}\nevent: ${event.eventType}\ndata: ${JSON.stringify(notification)}\n\n`)
        for (const subscriber of subscribers.get(event.data.sellerId) ?? []) subscriber.write(frame)
      }
    })
    return
  }
  if (url === "/readyz" || url === "/healthz") return void response.writeHead(200).end("{\"status\":\"ok\"}")
  response.writeHead(404).end()
})

server.listen({ port, host: "127.0.0.1", backlog: 4096 })
process.on("SIGTERM", () => {
  for (const set of subscribers.values()) for (const response of set) response.end()
  server.close(() => process.exit(0))
  server.closeAllConnections()
})
