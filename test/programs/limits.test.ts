import { Ajv } from "ajv"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { baseMillis, created, encode } from "../support/events.js"
import { startEmbedded, token } from "../support/embedded.js"
import { openSse, type SseClient } from "../support/sse.js"

/**
 * The limits of one process, on a running server with real sockets: concurrent streams per seller
 * (`SSE_MAX_STREAMS_PER_SELLER`, default 20) on both ways the stream is served, and events per second
 * per publishing token on `POST /events` (`GATEWAY_RATE_LIMIT`). The bucket's arithmetic is tested with
 * the test clock in test/http/rateLimiter.test.ts.
 */
const servers: Record<string, Awaited<ReturnType<typeof startEmbedded>>> = {}
beforeAll(async () => {
  servers["router"] = await startEmbedded({ GATEWAY_RATE_LIMIT: "3" })
  servers["listener"] = await startEmbedded({}, { listener: true })
})
afterAll(() => Promise.all(Object.values(servers).map((s) => s.dispose())))

const openapi = JSON.parse(readFileSync(fileURLToPath(new URL("../../contracts/openapi.json", import.meta.url)), "utf8"))
const ajv = new Ajv({ strict: false })
ajv.addSchema(openapi, "openapi")
const tooManyRequests = ajv.getSchema("openapi#/components/schemas/TooManyRequests")!

const metric = async (baseUrl: string, name: string) => {
  const text = await (await fetch(`${baseUrl}/metrics`)).text()
  return Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1])
}

/** Tries to open a stream until it is accepted (the server frees a slot once it saw the client go). */
const openWhenFree = async (url: string, headers: Record<string, string>) => {
  for (let attempt = 0; attempt < 100; attempt++) {
    const stream = await openSse(url, headers)
    if (stream.status === 200) return stream
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error("no stream slot came back")
}

describe.each(["router", "listener"])("streams per seller (%s)", (name) => {
  it("the 21st concurrent stream of a seller gets 429 with retry-after and a reason; other sellers still connect; a slot comes back when a client leaves or its token expires", async () => {
    const app = servers[name]!
    const seller = `limit_${name}`
    const url = (sellerId: string) => `${app.baseUrl}/sellers/${sellerId}/notifications/stream`
    const auth = { authorization: `Bearer ${await token({ sellerId: seller })}` }
    const open: Array<SseClient> = []
    try {
      // One of the twenty with a token about to expire: its stream ends by the server, and frees its slot.
      open.push(await openSse(url(seller), { authorization: `Bearer ${await token({ sellerId: seller }, "2s")}` }))
      for (let i = 1; i < 20; i++) open.push(await openSse(url(seller), auth))
      expect(open.map((s) => s.status)).toEqual(Array(20).fill(200))

      const refused = await fetch(url(seller), { headers: auth })
      expect(refused.status).toBe(429)
      expect(refused.headers.get("retry-after")).toMatch(/^[1-9]\d*$/)
      const body = await refused.json()
      expect(body).toMatchObject({ error: "TooManyRequests", reason: expect.stringContaining(seller) })
      expect(tooManyRequests(body), JSON.stringify(tooManyRequests.errors)).toBe(true)
      // The query's token counts the same as the header's.
      expect((await fetch(`${url(seller)}?access_token=${auth.authorization.slice(7)}`)).status).toBe(429)

      const other = await openSse(url(`${seller}_other`), { authorization: `Bearer ${await token({ sellerId: `${seller}_other` })}` })
      expect(other.status).toBe(200)
      other.close()

      // A client goes away: its slot is free again.
      open.pop()!.close()
      open.push(await openWhenFree(url(seller), auth))
      expect((await fetch(url(seller), { headers: auth })).status).toBe(429)

      // The token of the first expires: the server ends that stream, and the slot is free again.
      await open[0]!.ended
      open.push(await openWhenFree(url(seller), auth))
      expect((await fetch(url(seller), { headers: auth })).status).toBe(429)

      expect(await metric(app.baseUrl, "sse_streams_refused_total")).toBeGreaterThanOrEqual(4)
    } finally {
      for (const stream of open) stream.close()
    }
  }, 30_000)
})

describe("events per second per publishing token", () => {
  const post = async (baseUrl: string, bearer: string, body: unknown) => {
    const response = await fetch(`${baseUrl}/events`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
      body: JSON.stringify(body)
    })
    return { status: response.status, retryAfter: response.headers.get("retry-after"), body: await response.json() }
  }
  const events = (n: number, from: number) => Array.from({ length: n }, (_, i) => encode(created("rate_s", `p${from + i}`, baseMillis + from + i)))

  it("over GATEWAY_RATE_LIMIT events/s, 429 with retry-after and a reason, nothing published; other tokens unaffected", async () => {
    const app = servers["router"]!
    const service = await token({ role: "service" })
    const published = () => metric(app.baseUrl, `events_published_total\\{event_type="ProductCreated"\\}`)
    const before = (await published()) || 0

    // A burst of one second's worth: an array of 3 takes 3.
    expect((await post(app.baseUrl, service, events(3, 0))).status).toBe(202)
    const refused = await post(app.baseUrl, service, events(1, 3))
    expect(refused.status).toBe(429)
    expect(refused.retryAfter).toBe("1")
    expect(refused.body).toMatchObject({ error: "TooManyRequests", reason: expect.stringContaining("nothing was published") })
    expect(tooManyRequests(refused.body)).toBe(true)
    expect(await published()).toBe(before + 3)

    // Another token (another service, a seller) has its own budget.
    expect((await post(app.baseUrl, await token({ role: "service" }, "11h"), events(1, 4))).status).toBe(202)
    expect((await post(app.baseUrl, await token({ sellerId: "rate_s" }), events(1, 5))).status).toBe(202)
    expect(await published()).toBe(before + 5)
    expect(await metric(app.baseUrl, "gateway_rate_limited_total")).toBe(1)
  })
})
