import { Ajv } from "ajv"
import { readFileSync } from "node:fs"
import { request } from "node:http"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { baseMillis, created, encode, product } from "../support/events.js"
import { startEmbedded, token } from "../support/embedded.js"

/**
 * The requests that found the HTTP defects of issue 13, each answered with its documented status
 * (never a 5xx, never a reset), and the error bodies as contracts/openapi.json declares them.
 */
const maxBody = 64 * 1024
const shop = "https://shop.example"
let app: Awaited<ReturnType<typeof startEmbedded>>
let fast: Awaited<ReturnType<typeof startEmbedded>>
let serviceToken: string
let sellerToken: string

beforeAll(async () => {
  const config = { GATEWAY_MAX_BODY_BYTES: String(maxBody), CORS_ORIGINS: `${shop}, https://admin.example` }
  app = await startEmbedded(config)
  fast = await startEmbedded(config, { listener: true })
  serviceToken = await token({ role: "service" })
  sellerToken = await token({ sellerId: "edge_s" })
})
afterAll(async () => {
  await app?.dispose()
  await fast?.dispose()
})

const openapi = JSON.parse(readFileSync(fileURLToPath(new URL("../../contracts/openapi.json", import.meta.url)), "utf8"))
const ajv = new Ajv({ strict: false, allErrors: true })
ajv.addSchema(openapi, "openapi")
/** The body against `components.schemas[name]` of the committed OpenAPI document. */
const declared = (name: string, body: unknown) => {
  const validate = ajv.getSchema(`openapi#/components/schemas/${name}`)
  if (validate === undefined) throw new Error(`contracts/openapi.json has no components.schemas.${name}`)
  expect(validate(body), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true)
}

/** A POST /events sent with `Transfer-Encoding: chunked` (no Content-Length): status, or the socket error. */
const postChunked = (baseUrl: string, totalBytes: number) =>
  new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
    const req = request(`${baseUrl}/events`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${serviceToken}`, "transfer-encoding": "chunked" }
    })
    req.on("response", (response) => {
      let body = ""
      response.setEncoding("utf8")
      response.on("data", (chunk) => (body += chunk))
      response.on("end", () => resolve({ status: response.statusCode!, body }))
      response.on("error", (e) => resolve({ error: e.message }))
    })
    req.on("error", (e) => resolve({ error: e.message }))
    const chunk = Buffer.alloc(8 * 1024, "x")
    let sent = 0
    const write = () => {
      while (sent < totalBytes) {
        sent += chunk.length
        if (!req.write(chunk)) return void req.once("drain", write)
      }
      req.end()
    }
    write()
  })

describe("the HTTP edges", () => {
  it("413 for an oversized body however it is sent, and the server stays healthy", async () => {
    const chunked = await postChunked(app.baseUrl, 4 * maxBody)
    expect(chunked).toMatchObject({ status: 413 })
    declared("PayloadTooLarge", JSON.parse((chunked as { body: string }).body))
    const viaFast = await postChunked(fast.baseUrl, 4 * maxBody)
    expect(viaFast).toMatchObject({ status: 413 })
    const withLength = await fetch(`${app.baseUrl}/events`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${serviceToken}` },
      body: "x".repeat(2 * maxBody)
    })
    expect(withLength.status).toBe(413)
    expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200)
    // just under the limit, chunked: read whole, then judged as JSON
    expect(await postChunked(app.baseUrl, maxBody - 8 * 1024)).toMatchObject({ status: 400 })
  })

  it("400 for a metrics range that is not a calendar date or hour", async () => {
    const get = (query: string) =>
      fetch(`${app.baseUrl}/sellers/edge_s/metrics?${query}`, { headers: { authorization: `Bearer ${sellerToken}` } })
    for (const query of ["from=2026-13-45", "from=2026-02-30&to=2026-99-99", "from=2026-12-01T25", "from=garbage", "to=2026-00-10"]) {
      const response = await get(query)
      expect(response.status, query).toBe(400)
      const body = (await response.json()) as { reason: string }
      declared("BadRequest", body)
      expect(body.reason, query).toMatch(/^invalid query: (from|to): /)
    }
    for (const query of ["from=2024-02-29", "from=2026-12-01T23&to=2026-12-31", ""]) {
      expect((await get(query)).status, query).toBe(200)
    }
  })

  it("405 with allow for a method the path does not have; 404 for a path that does not exist; OPTIONS lists them", async () => {
    for (const [method, path, allow] of [
      ["PUT", "/events", "OPTIONS, POST"],
      ["GET", "/events", "OPTIONS, POST"],
      ["POST", "/healthz", "GET, OPTIONS"],
      ["DELETE", "/sellers/edge_s/metrics", "GET, OPTIONS"],
      ["POST", "/sellers/edge_s/notifications/stream", "GET, OPTIONS"]
    ] as const) {
      const response = await fetch(`${app.baseUrl}${path}`, { method })
      expect(response.status, `${method} ${path}`).toBe(405)
      expect(response.headers.get("allow")).toBe(allow)
      declared("MethodNotAllowed", await response.json())
    }
    const missing = await fetch(`${app.baseUrl}/nope`)
    expect(missing.status).toBe(404)
    declared("NotFound", await missing.json())
    const options = await fetch(`${app.baseUrl}/events`, { method: "OPTIONS" })
    expect(options.status).toBe(204)
    expect(options.headers.get("allow")).toBe("OPTIONS, POST")
    expect(options.headers.get("access-control-allow-origin")).toBeNull()
  })

  it("CORS for the origins of CORS_ORIGINS only: preflight, responses, errors and the stream on both servers", async () => {
    const preflight = (origin: string) =>
      fetch(`${app.baseUrl}/events`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" }
      })
    const allowed = await preflight(shop)
    expect(allowed.status).toBe(204)
    expect(allowed.headers.get("access-control-allow-origin")).toBe(shop)
    expect(allowed.headers.get("access-control-allow-methods")).toBe("OPTIONS, POST")
    expect(allowed.headers.get("access-control-allow-headers")).toContain("authorization")
    const other = await preflight("https://evil.example")
    expect(other.status).toBe(204)
    expect(other.headers.get("access-control-allow-origin")).toBeNull()

    const unauthorized = await fetch(`${app.baseUrl}/sellers/edge_s/metrics`, { headers: { origin: shop } })
    expect(unauthorized.status).toBe(401)
    expect(unauthorized.headers.get("access-control-allow-origin")).toBe(shop)
    expect(unauthorized.headers.get("www-authenticate")).toContain("Bearer")
    declared("Unauthorized", await unauthorized.json())

    for (const server of [app, fast]) {
      const controller = new AbortController()
      const stream = await fetch(`${server.baseUrl}/sellers/edge_s/notifications/stream?access_token=${sellerToken}`, {
        headers: { origin: shop },
        signal: controller.signal
      })
      expect(stream.status).toBe(200)
      expect(stream.headers.get("content-type")).toContain("text/event-stream")
      expect(stream.headers.get("access-control-allow-origin")).toBe(shop)
      controller.abort()
      const forbidden = await fetch(`${server.baseUrl}/sellers/other/notifications/stream?access_token=${sellerToken}`, {
        headers: { origin: shop }
      })
      expect(forbidden.status).toBe(403)
      expect(forbidden.headers.get("access-control-allow-origin")).toBe(shop)
      declared("Forbidden", await forbidden.json())
    }
  })

  it("a name of 200 emoji is accepted (code points, as the JSON Schema counts), 201 are not", async () => {
    const event = encode(created("edge_s", "emoji", baseMillis, product({ name: "😀".repeat(200) }))) as {
      data: { product: { name: string } }
    }
    const post = (body: unknown) =>
      fetch(`${app.baseUrl}/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${serviceToken}` },
        body: JSON.stringify(body)
      })
    const accepted = await post(event)
    expect(accepted.status).toBe(202)
    declared("Accepted", await accepted.json())
    const longer = { ...event, data: { ...event.data, product: { ...event.data.product, name: "😀".repeat(201) } } }
    const rejected = await post(longer)
    expect(rejected.status).toBe(400)
    const body = (await rejected.json()) as { errors: unknown }
    declared("BadRequest", body)
    expect(body.errors).toEqual([expect.objectContaining({ index: 0, path: "data.product.name" })])
  })
})

describe("a conflicting re-post (same eventId, other content)", () => {
  it("is accepted, then dead-lettered by notification-service with reason conflict and counted; the first version stands", async () => {
    const first = encode(created("edge_conflict", "lamp", baseMillis + 10, product({ name: "First lamp" }))) as {
      eventId: string
      data: { product: { name: string } }
    }
    const second = { ...first, data: { ...first.data, product: { ...first.data.product, name: "Second lamp" } } }
    const post = (body: unknown) =>
      fetch(`${app.baseUrl}/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${serviceToken}` },
        body: JSON.stringify(body)
      })
    expect((await post(first)).status).toBe(202)
    expect((await post(first)).status).toBe(202) // the same event again: a redelivery, not a conflict
    expect((await post(second)).status).toBe(202)
    const conflicts = /^events_dead_lettered_total\{group="notification-service",reason="conflict"\} (\d+)$/m
    let count: string | undefined
    for (let i = 0; i < 100 && count === undefined; i++) {
      count = conflicts.exec(await (await fetch(`${app.baseUrl}/metrics`)).text())?.[1]
      if (count === undefined) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(count).toBe("1")
    const token_ = await token({ sellerId: "edge_conflict" })
    const list = await fetch(`${app.baseUrl}/sellers/edge_conflict/notifications`, { headers: { authorization: `Bearer ${token_}` } })
    const body = (await list.json()) as { items: Array<{ id: string; title: string; body: string }> }
    expect(body.items.map((n) => n.id)).toEqual([first.eventId])
    expect(body.items[0]!.body).toContain("First lamp")
  })
})

describe("configuration that cannot work is refused at start-up, naming the variable", () => {
  it.each([
    ["AUTH_JWT_SECRET", ""],
    ["AUTH_JWT_SECRET", "too-short"],
    ["GATEWAY_MAX_BODY_BYTES", "-1"],
    ["SSE_MAX_BUFFERED_BYTES", "0"],
    ["SSE_MAX_STREAMS_PER_SELLER", "0"],
    ["GATEWAY_RATE_LIMIT", "0"],
    ["AUTH_JWKS_URL", "id.example/jwks.json"],
    ["AUTH_JWKS_URL", "ftp://id.example/jwks.json"],
    ["CORS_ORIGINS", "shop.example"],
    ["DASHBOARD_METRICS_URL", "127.0.0.1:3002"],
    ["INFRA", "bogus"]
  ])("%s=%j", async (name, value) => {
    const error = await startEmbedded({ [name]: value }).then(() => undefined, (e: unknown) => String(e))
    expect(error).toContain(name)
    // once, however many pieces read it
    expect(error!.match(/Invalid data at/g)).toHaveLength(1)
  })
})
