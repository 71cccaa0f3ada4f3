import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startEmbedded, token } from "../support/embedded.js"

/**
 * `http_request_duration_seconds` in /metrics: by method, declared route (never the raw path) and
 * status; unknown paths under one label; the SSE stream left out.
 */
let app: Awaited<ReturnType<typeof startEmbedded>>

beforeAll(async () => {
  // The router's own stream route (no listener): the histogram must leave it out there too.
  app = await startEmbedded()
}, 60_000)
afterAll(() => app?.dispose())

/** Samples of the histogram's `_count` series, by their label sets. */
const counts = async () => {
  const text = await (await fetch(`${app.baseUrl}/metrics`)).text()
  const out: Array<{ method: string; route: string; status: string; count: number }> = []
  for (const match of text.matchAll(/^http_request_duration_seconds_count\{method="([^"]*)",route="([^"]*)",status="([^"]*)"\} (\d+)$/gm)) {
    out.push({ method: match[1]!, route: match[2]!, status: match[3]!, count: Number(match[4]) })
  }
  return out
}
const countOf = (samples: Awaited<ReturnType<typeof counts>>, method: string, route: string, status: string) =>
  samples.find((s) => s.method === method && s.route === route && s.status === status)?.count ?? 0

describe("http_request_duration_seconds", () => {
  it("counts requests by method, declared route and status; unknown paths as one route; not the SSE stream", async () => {
    const before = await counts()
    const seller = await token({ sellerId: "rm_s" })
    for (const id of ["rm_s", "rm_s"]) {
      expect((await fetch(`${app.baseUrl}/sellers/${id}/metrics`, { headers: { authorization: `Bearer ${seller}` } })).status).toBe(200)
    }
    expect((await fetch(`${app.baseUrl}/sellers/rm_other/metrics`, { headers: { authorization: `Bearer ${seller}` } })).status).toBe(403)
    expect((await fetch(`${app.baseUrl}/sellers/rm_s/metrics`)).status).toBe(401)
    for (const path of ["/nope", "/wp-admin/x.php", `/random/${Date.now()}`]) expect((await fetch(`${app.baseUrl}${path}`)).status).toBe(404)
    expect((await fetch(`${app.baseUrl}/events`, { method: "PATCH" })).status).toBe(405)
    const controller = new AbortController()
    const stream = await fetch(`${app.baseUrl}/sellers/rm_s/notifications/stream`, { headers: { authorization: `Bearer ${seller}` }, signal: controller.signal })
    expect(stream.status).toBe(200)
    controller.abort()

    const after = await counts()
    const added = (method: string, route: string, status: string) => countOf(after, method, route, status) - countOf(before, method, route, status)
    expect(added("GET", "/sellers/{sellerId}/metrics", "200")).toBe(2)
    expect(added("GET", "/sellers/{sellerId}/metrics", "403")).toBe(1)
    expect(added("GET", "/sellers/{sellerId}/metrics", "401")).toBe(1)
    expect(added("GET", "unmatched", "404")).toBe(3)
    expect(added("PATCH", "/events", "405")).toBe(1)
    // Only declared routes and `unmatched` as labels: no raw path, no seller id.
    expect(after.filter((s) => s.route !== "unmatched" && !s.route.startsWith("/"))).toEqual([])
    expect(after.some((s) => /rm_|wp-admin|random/.test(s.route))).toBe(false)
    expect(after.some((s) => s.route.endsWith("/notifications/stream"))).toBe(false)
    expect(after.every((s) => ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"].includes(s.method))).toBe(true)
  })
})
