import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { tokenExpiredFrame } from "../../src/domain/SseFrame.js"
import { created, encode } from "../support/events.js"
import { startEmbedded, token } from "../support/embedded.js"
import { openSse } from "../support/sse.js"

/**
 * A stream ends when its token does, on both ways the stream is served (the router's and the listener's
 * fast path): after a last comment saying why; a client that comes back with a fresh token and
 * Last-Event-ID misses nothing and gets nothing twice. (The timing itself is tested on the hub with
 * the test clock: test/notification/hub.test.ts.)
 */
const servers: Record<string, Awaited<ReturnType<typeof startEmbedded>>> = {}
beforeAll(async () => {
  servers["router"] = await startEmbedded()
  servers["listener"] = await startEmbedded({}, { listener: true })
})
afterAll(() => Promise.all(Object.values(servers).map((s) => s.dispose())))

const comment = tokenExpiredFrame.slice(2, -2)

describe.each(["router", "listener"])("a stream's token expires (%s)", (name) => {
  it("the server ends the response after the comment; a fresh token with Last-Event-ID resumes without gap or duplicate", async () => {
    const app = servers[name]!
    const seller = `exp_${name}`
    const url = `${app.baseUrl}/sellers/${seller}/notifications/stream`
    const post = async (productId: string, millis: number) => {
      const response = await fetch(`${app.baseUrl}/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${await token({ role: "service" })}` },
        body: JSON.stringify(encode(created(seller, productId, millis)))
      })
      expect(response.status).toBe(202)
    }

    const stream = await openSse(url, { authorization: `Bearer ${await token({ sellerId: seller }, "2s")}` })
    expect(stream.status).toBe(200)
    await post("p1", Date.UTC(2026, 10, 26, 20))
    const [first] = await stream.waitFor(1)
    await Promise.race([stream.ended, new Promise((_, reject) => setTimeout(() => reject(new Error("the stream outlived its token")), 10_000))])
    expect(stream.comments.at(-1)).toBe(comment)

    await post("p2", Date.UTC(2026, 10, 26, 21))
    const resumed = await openSse(url, { authorization: `Bearer ${await token({ sellerId: seller })}`, "last-event-id": first!.id! })
    const [next] = await resumed.waitFor(1)
    expect(next!.data).toContain("\"productId\":\"p2\"")
    resumed.close()
    expect(resumed.events.map((e) => e.id)).toEqual([next!.id])
  }, 30_000)
})
