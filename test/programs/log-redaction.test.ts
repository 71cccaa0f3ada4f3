import { type Etag, type HttpPlatform, HttpServer } from "@effect/platform"
import { type NodeContext, NodeHttpServer } from "@effect/platform-node"
import { ConfigProvider, Effect, Layer, Logger, LogLevel, ManagedRuntime } from "effect"
import { createServer } from "node:http"
import { afterAll, describe, expect, it, vi } from "vitest"
import { EmbeddedLive } from "../../src/app/Embedded.js"
import * as Listener from "../../src/http/Listener.js"
import { token } from "../support/embedded.js"
import { created, encode } from "../support/events.js"
import { openSse } from "../support/sse.js"

/**
 * The access log (every request at debug level, 5xx at error level) and the error logs never carry a
 * token: the SSE stream's `?access_token=` is redacted in every logged URL, whichever route took the
 * request (each request has its line), and the Authorization header is not logged at all. Both ways of serving, at LOG_LEVEL=debug.
 */
const lines: Array<string> = []
const capture = Logger.map(Logger.logfmtLogger, (line) => void lines.push(line))

const start = async (listener: boolean) => {
  const server: Layer.Layer<HttpServer.HttpServer | NodeContext.NodeContext | HttpPlatform.HttpPlatform | Etag.Generator, unknown> = listener
    ? Listener.layer({ port: 0, host: "127.0.0.1" })
    : NodeHttpServer.layer(() => createServer(), { port: 0, host: "127.0.0.1" })
  const runtime = ManagedRuntime.make(
    EmbeddedLive.pipe(
      Layer.provideMerge(server),
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromEnv())),
      Layer.provide(Layer.merge(Logger.replace(Logger.defaultLogger, capture), Logger.minimumLogLevel(LogLevel.Debug)))
    )
  )
  const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (s) => s.address))
  if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
  return { runtime, baseUrl: `http://127.0.0.1:${address.port}` }
}

const runtimes: Array<{ dispose: () => Promise<void> }> = []
afterAll(() => Promise.all(runtimes.map((r) => r.dispose())))

describe.each([false, true])("logs never carry a token (listener: %s)", (listener) => {
  it("access_token is REDACTED in every logged URL; bearer tokens appear nowhere", async () => {
    const { baseUrl, runtime } = await start(listener)
    runtimes.push(runtime)
    const from = lines.length
    const seller = `redact_${listener}`
    const valid = await token({ sellerId: seller })
    const forged = `${valid.slice(0, -4)}AAAA`
    const stream = await openSse(`${baseUrl}/sellers/${seller}/notifications/stream?access_token=${valid}&lastEventId=x`)
    expect(stream.status).toBe(200)
    stream.close()
    const statuses = []
    for (const path of [
      `/sellers/${seller}/notifications/stream?access_token=${forged}`,
      `/sellers/not-a-seller/notifications/stream?access_token=${valid}`,
      `/sellers/${seller}/notifications?access_token=${valid}`,
      `/nowhere?lastEventId=1&access_token=${valid}`
    ]) statuses.push((await fetch(`${baseUrl}${path}`)).status)
    statuses.push((await fetch(`${baseUrl}/sellers/${seller}/notifications`, { headers: { authorization: `Bearer ${forged}` } })).status)
    statuses.push((await fetch(`${baseUrl}/sellers/${seller}/notifications`, { headers: { authorization: `Bearer ${valid}` } })).status)
    // POST /events (the router's handler, or on the listener the route served ahead of it): with a valid token, a forged one, and a query string.
    const publish = (path: string, bearer: string, n: number) =>
      fetch(`${baseUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
        body: JSON.stringify(encode(created(seller, `p${n}`)))
      })
    for (const [path, bearer, n] of [["/events", valid, 1], ["/events", forged, 2], [`/events?access_token=${valid}`, valid, 3]] as const) {
      statuses.push((await publish(path, bearer, n)).status)
    }
    expect(statuses).toEqual([401, 400, 401, 404, 401, 200, 202, 401, 202])

    // One access-log line per request, whichever route served it (the stream's ahead of the router too).
    const accessLines = () => lines.slice(from).filter((l) => l.includes("Sent HTTP response"))
    // The requests above, and the first SSE stream (its status checked on its own).
    await vi.waitFor(() => expect(accessLines()).toHaveLength(statuses.length + 1))
    const posts = accessLines().filter((l) => l.includes("http.method=POST"))
    expect(posts.map((l) => [/http\.url="?([^"\s]+)/.exec(l)?.[1], /http\.status=(\d+)/.exec(l)?.[1], /level=(\w+)/.exec(l)?.[1]])).toEqual([
      ["/events", "202", "DEBUG"],
      ["/events", "401", "DEBUG"],
      ["/events?access_token=REDACTED", "202", "DEBUG"]
    ])
    const log = lines.slice(from).join("\n")
    expect(log).toContain("access_token=REDACTED")
    for (const secret of [valid, forged, valid.split(".")[2]!, forged.split(".")[2]!]) expect(log).not.toContain(secret)
  })
})
