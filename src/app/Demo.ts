import { Config, Console, Data, Duration, Effect, Fiber, Layer, Ref, Schedule } from "effect"
import { initialTraffic, nextEvents } from "../domain/Traffic.js"
import * as Listener from "../http/Listener.js"
import { onShutdownSignal } from "../services/ShutdownSignal.js"
import { SigningSecret, signToken } from "../services/Tokens.js"

class DemoPostFailed extends Data.TaggedError("DemoPostFailed")<{ readonly reason: string }> {}

/**
 * Posts realistic seller traffic to the gateway over HTTP, as an upstream producer would:
 * `DEMO_SELLERS` sellers, `DEMO_RATE` events per second.
 */
export const DemoTraffic = Layer.scopedDiscard(Effect.gen(function*() {
  const { port } = yield* Listener.address
  const sellers = yield* Config.integer("DEMO_SELLERS").pipe(Config.withDefault(50))
  const rate = yield* Config.integer("DEMO_RATE").pipe(Config.withDefault(20))
  const secret = yield* SigningSecret
  const base = `http://127.0.0.1:${port}`
  const serviceToken = yield* signToken(secret, { role: "service" })
  const viewerToken = yield* signToken(secret, { sellerId: "seller_001" })
  // A few sellers to open in the dashboard, each with its own token in the link's fragment.
  const watched = Array.from({ length: Math.min(3, sellers) }, (_, i) => `seller_${String(i + 1).padStart(3, "0")}`)
  const dashboardLinks = yield* Effect.forEach(watched, (sellerId) =>
    Effect.map(signToken(secret, { sellerId }), (token) => `  ${sellerId}: ${base}/dashboard#token=${token}`))
  const requestTimeoutMillis = yield* Config.integer("DEMO_REQUEST_TIMEOUT_MS").pipe(Config.withDefault(5000))
  const summaryEvery = yield* Config.duration("DEMO_SUMMARY_EVERY").pipe(Config.withDefault(Duration.seconds(5)))
  const state = yield* Ref.make(initialTraffic(sellers))

  const post = (events: ReadonlyArray<unknown>) =>
    Effect.tryPromise({
      try: async (signal) => {
        const response = await fetch(`${base}/events`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${serviceToken}` },
          body: JSON.stringify(events),
          // Its own bound: a request the server never answers fails (and is retried) instead of stalling the traffic.
          signal: AbortSignal.any([signal, AbortSignal.timeout(requestTimeoutMillis)])
        })
        return { status: response.status, body: await response.text() }
      },
      catch: (cause) => new DemoPostFailed({ reason: cause instanceof Error ? cause.message : String(cause) })
    }).pipe(
      Effect.flatMap(({ body, status }) =>
        status === 202 ? Effect.void : Effect.fail(new DemoPostFailed({ reason: `gateway answered ${status}: ${body.slice(0, 300)}` }))
      ),
      Effect.tapError((e) => Effect.logWarning(`demo traffic: POST /events failed: ${e.reason}`))
    )

  /** Events posted and batches that failed since the last summary, and in all. */
  const counts = { posted: 0, failed: 0, postedInAll: 0 }
  const tick = Effect.gen(function*() {
    const now = Date.now()
    const events = yield* Ref.modify(state, (s) => {
      const [batch, next] = nextEvents(s, Math.random, now)
      return [batch, next] as const
    })
    yield* post(events)
    counts.posted += events.length
    counts.postedInAll += events.length
  })

  // For the person who started it: where to look, on stdout as it is, not as log lines.
  yield* Console.log(
    [
      `demo traffic: ${sellers} sellers, ${rate} events/s, posted to ${base}/events`,
      `dashboards (open in a browser; the token after # stays in it):`,
      ...dashboardLinks,
      `watch seller_001:  curl -N -H "Authorization: Bearer ${viewerToken}" ${base}/sellers/seller_001/notifications/stream`,
      `stored:            curl -H "Authorization: Bearer ${viewerToken}" "${base}/sellers/seller_001/notifications?limit=20"`,
      `metrics:           curl ${base}/metrics`,
      `a summary every ${Duration.format(summaryEvery)}; LOG_LEVEL=debug shows every request`
    ].join("\n")
  )
  yield* Effect.suspend(() => {
    const line = `demo traffic: ${counts.posted} events posted in the last ${Duration.format(summaryEvery)}` +
      `${counts.failed > 0 ? `, ${counts.failed} batches not posted` : ""}; ${counts.postedInAll} in all`
    counts.posted = 0
    counts.failed = 0
    return Effect.logInfo(line)
  }).pipe(Effect.repeat(Schedule.spaced(summaryEvery)), Effect.delay(summaryEvery), Effect.forkScoped)
  const traffic = yield* tick.pipe(
    Effect.retry(Schedule.spaced("500 millis").pipe(Schedule.upTo("10 seconds"))),
    // A tick that still fails is skipped, with a line saying so: the traffic goes on.
    Effect.catchAll((e) =>
      Effect.sync(() => counts.failed++).pipe(Effect.zipRight(Effect.logWarning(`demo traffic: a batch was not posted: ${e.reason}`)))
    ),
    // Fixed, not spaced: a tick every 1/rate s whatever the POST takes (spaced added its round trip, halving the rate).
    Effect.repeat(Schedule.fixed(`${Math.max(1, Math.round(1000 / rate))} millis`)),
    Effect.forkScoped
  )
  // The traffic stops at the signal, before the server it posts to closes.
  yield* onShutdownSignal(
    Fiber.interrupt(traffic).pipe(Effect.zipRight(Effect.suspend(() => Effect.logInfo(`demo traffic stopped: ${counts.postedInAll} events posted`))))
  )
}))
