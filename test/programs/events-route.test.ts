import { request } from "node:http"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { baseMillis, created, encode, product } from "../support/events.js"
import { startEmbedded, token } from "../support/embedded.js"

/**
 * `POST /events` is served two ways: by the API's router, and on the programs' own listener ahead of the
 * router (src/http/EventsRoute.ts). The same requests must get the same answers from both: status, body
 * and the headers a client reads (problem headers, CORS), and the same counters in /metrics.
 */
const maxBody = 16 * 1024
const shop = "https://shop.example"
const config = { GATEWAY_MAX_BODY_BYTES: String(maxBody), GATEWAY_RATE_LIMIT: "50", CORS_ORIGINS: shop }
const servers: Record<string, Awaited<ReturnType<typeof startEmbedded>>> = {}
beforeAll(async () => {
  servers["router"] = await startEmbedded(config)
  servers["listener"] = await startEmbedded(config, { listener: true })
}, 60_000)
afterAll(() => Promise.all(Object.values(servers).map((s) => s.dispose())))

interface Sent {
  readonly path?: string
  readonly headers: Record<string, string>
  readonly body?: string | Buffer
  /** Sent without Content-Length, in chunks. */
  readonly chunked?: boolean
}

const readHeaders = ["content-type", "www-authenticate", "retry-after", "access-control-allow-origin", "access-control-expose-headers", "vary"]

const post = (baseUrl: string, sent: Sent) =>
  new Promise<{ status: number; headers: Record<string, string | undefined>; body: unknown }>((resolve, reject) => {
    const body = sent.body === undefined ? undefined : Buffer.from(sent.body)
    const headers = { ...sent.headers, ...(sent.chunked === true ? { "transfer-encoding": "chunked" } : {}) }
    const req = request(`${baseUrl}${sent.path ?? "/events"}`, { method: "POST", headers }, (response) => {
      const parts: Array<Buffer> = []
      response.on("data", (part: Buffer) => parts.push(part))
      response.on("end", () => {
        const text = Buffer.concat(parts).toString("utf8")
        resolve({
          status: response.statusCode!,
          headers: Object.fromEntries(readHeaders.map((name) => [name, response.headers[name] as string | undefined])),
          body: text.length === 0 ? undefined : JSON.parse(text)
        })
      })
      response.on("error", reject)
    })
    req.on("error", reject)
    if (body !== undefined && sent.chunked === true) {
      for (let at = 0; at < body.length; at += 4096) req.write(body.subarray(at, at + 4096))
      req.end()
    } else req.end(body)
  })

const counters = async (baseUrl: string) => {
  const text = await (await fetch(`${baseUrl}/metrics`)).text()
  return text.split("\n").filter((line) =>
    /^(events_published_total|events_rejected_total|gateway_rate_limited_total|http_request_duration_seconds_count\{method="POST",route="\/events")/.test(line)
  )
}

describe("POST /events on the router and on the listener", () => {
  it("answers every kind of request the same way, and counts the same", async () => {
    const service = { "content-type": "application/json", authorization: `Bearer ${await token({ role: "service" })}` }
    const seller = { "content-type": "application/json", authorization: `Bearer ${await token({ sellerId: "route_s" })}` }
    // A token of its own for the rate limit (buckets are per token): 50 events a second, 50 in a burst.
    const limited = { "content-type": "application/json", authorization: `Bearer ${await token({ sellerId: "route_r" })}` }
    const event = (n: number, sellerId = "route_s") => encode(created(sellerId, `p${n}`, baseMillis + n))
    const json = (value: unknown) => JSON.stringify(value)
    const invalid = { ...event(1), data: { ...event(1).data, product: product({ stock: -1 }) } }
    const requests: Array<[string, Sent]> = [
      ["one event", { headers: service, body: json(event(1)) }],
      ["a batch", { headers: service, body: json([event(2), event(3, "route_t")]) }],
      ["the same batch again", { headers: service, body: json([event(2), event(3, "route_t")]) }],
      ["a query string", { path: "/events?source=test", headers: service, body: json(event(4)) }],
      ["from an allowed origin", { headers: { ...service, origin: shop }, body: json(event(5)) }],
      ["from another origin", { headers: { ...service, origin: "https://evil.example" }, body: json(event(6)) }],
      ["chunked", { headers: service, body: json([event(7), event(8)]), chunked: true }],
      ["a seller's own events", { headers: seller, body: json([event(9)]) }],
      ["another seller's events", { headers: seller, body: json([event(10, "route_t")]) }],
      ["an empty batch", { headers: service, body: "[]" }],
      ["an invalid event", { headers: service, body: json([event(11), invalid]) }],
      ["one eventId, two contents", { headers: service, body: json([event(12), { ...event(12), data: { ...event(12).data, product: product({ stock: 1 }) } }]) }],
      ["not JSON", { headers: service, body: "{\"eventId\":" }],
      ["not UTF-8", { headers: service, body: Buffer.from([0x5b, 0xff, 0xfe, 0x5d]) }],
      ["too deep", { headers: service, body: "[".repeat(40) + "]".repeat(40) }],
      ["too large", { headers: service, body: json(Array.from({ length: 100 }, (_, i) => event(100 + i))) }],
      ["too large, chunked", { headers: service, body: json(Array.from({ length: 100 }, (_, i) => event(100 + i))), chunked: true }],
      ["no token", { headers: { "content-type": "application/json" }, body: json(event(13)) }],
      ["not a bearer token", { headers: { ...service, authorization: "Basic dXNlcjpwYXNz" }, body: json(event(14)) }],
      ["a forged token", { headers: { ...service, authorization: `${service.authorization}x` }, body: json(event(15)) }],
      ["an unauthenticated origin", { headers: { "content-type": "application/json", origin: shop }, body: json(event(16)) }],
      ["within the rate limit", { headers: limited, body: json(Array.from({ length: 30 }, (_, i) => event(200 + i, "route_r"))) }],
      // 30 + 45 > 50 + what 0.5 s of refill could add: refused whatever the machine's pace.
      ["over the rate limit", { headers: limited, body: json(Array.from({ length: 45 }, (_, i) => event(300 + i, "route_r"))) }]
    ]
    const answers: Record<string, Array<unknown>> = {}
    for (const [name, server] of Object.entries(servers)) {
      answers[name] = []
      for (const [label, sent] of requests) answers[name]!.push({ label, ...(await post(server.baseUrl, sent)) })
    }
    expect(answers["listener"]).toEqual(answers["router"])
    // What the requests were meant to show, so that the comparison is not between two wrong answers.
    const statuses = Object.fromEntries((answers["router"] as Array<{ label: string; status: number }>).map((a) => [a.label, a.status]))
    expect(statuses).toEqual({
      "one event": 202,
      "a batch": 202,
      "the same batch again": 202,
      "a query string": 202,
      "from an allowed origin": 202,
      "from another origin": 202,
      "chunked": 202,
      "a seller's own events": 202,
      "another seller's events": 403,
      "an empty batch": 400,
      "an invalid event": 400,
      "one eventId, two contents": 400,
      "not JSON": 400,
      "not UTF-8": 400,
      "too deep": 400,
      "too large": 413,
      "too large, chunked": 413,
      "no token": 401,
      "not a bearer token": 401,
      "a forged token": 401,
      "an unauthenticated origin": 401,
      "within the rate limit": 202,
      "over the rate limit": 429
    })
    // CORS: the allowed origin is named back, another is not.
    const allowOrigin = (label: string) =>
      (answers["router"] as Array<{ label: string; headers: Record<string, string | undefined> }>).find((a) => a.label === label)!
        .headers["access-control-allow-origin"]
    expect([allowOrigin("from an allowed origin"), allowOrigin("from another origin")]).toEqual([shop, undefined])
    expect(await counters(servers["listener"]!.baseUrl)).toEqual(await counters(servers["router"]!.baseUrl))
  })

  it.each(["router", "listener"])("on the %s, a client gone before its answer is counted as 499 (no 5xx), and the next request is answered", async (name) => {
    const app = servers[name]!
    /** Requests to POST /events counted with a status matching `status` (a regex source), summed. */
    const count = async (status: string) =>
      [...(await (await fetch(`${app.baseUrl}/metrics`)).text()).matchAll(
        new RegExp(`^http_request_duration_seconds_count\\{method="POST",route="/events",status="${status}"\\} (\\d+)$`, "gm")
      )].reduce((n, m) => n + Number(m[1]), 0)
    const before = { gone: await count("499"), failed: await count("5\\d\\d") }
    const authorization = `Bearer ${await token({ role: "service" })}`
    await new Promise<void>((resolve) => {
      const req = request(`${app.baseUrl}/events`, { method: "POST", headers: { authorization, "content-length": "1000" } })
      req.on("error", () => resolve())
      req.write("[{\"eventId\":", () => setTimeout(() => req.destroy(), 50))
    })
    await vi.waitFor(async () => expect(await count("499")).toBe(before.gone + 1))
    expect({ gone: await count("499"), failed: await count("5\\d\\d") }).toEqual({ gone: before.gone + 1, failed: before.failed })
    const next = await post(app.baseUrl, {
      headers: { "content-type": "application/json", authorization },
      body: JSON.stringify(encode(created("route_s", `after_abort_${name}`, baseMillis)))
    })
    expect(next.status).toBe(202)
  })
})
