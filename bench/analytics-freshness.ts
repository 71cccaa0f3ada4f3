/**
 * Freshness of analytics-service's hot metrics under a steady load, and the DynamoDB writes it costs,
 * on the live stack (Kafka, dynalite, Redis, s3rver up): the gateway, notification-service and
 * analytics-service as processes (their programs' composition, on a fresh bench topic and bench
 * consumer groups) and a steady offered load of lifecycle events (ProductCreated, and ProductUpdated
 * of the sellers' earlier products) over `BENCH_SELLERS` sellers, in 100 ms ticks of POSTs.
 *
 * For a sample of sellers (`BENCH_METRICS_SELLERS`), `GET /sellers/{id}/metrics` is polled every
 * `BENCH_POLL_MS`: an event's freshness is the time from its POST's start to the first answer whose
 * `counts` include it (a poll's period is part of the figure: it errs on the slow side). Prints p50,
 * p99 and max, and per service the DynamoDB write requests per event (`dynamodb_write_requests_total`
 * of each service's /metrics over the steady phase, divided by the events accepted in it).
 *
 *   npm run bench:freshness
 *   BENCH_RATE=500 BENCH_SECONDS=60 BENCH_SELLERS=1000 npm run bench:freshness
 */
import { randomUUID } from "node:crypto"
import { Effect, Redacted } from "effect"
import { makeEventId } from "../src/domain/ProductEvent.js"
import { devJwtSecret, signToken } from "../src/services/Tokens.js"
import { startIsolatedPrograms, stopChild, waitUp } from "./support/children.js"
import { send, steadyLoad } from "./support/load.js"
import { dynamoWrites, total } from "./support/metrics.js"
import { percentile } from "./support/sse.js"

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const rate = num("BENCH_RATE", 500)
const seconds = num("BENCH_SECONDS", 60)
const sellerCount = num("BENCH_SELLERS", 1_000)
const sampleCount = num("BENCH_METRICS_SELLERS", 10)
const pollMs = num("BENCH_POLL_MS", 100)
const brokers = (process.env["KAFKA_BROKERS"] ?? "127.0.0.1:9092").split(",")
const run = randomUUID().slice(0, 8)
const topic = `bench_freshness_${run}`
const prefix = `${topic}.`
const sellers = Array.from({ length: sellerCount }, (_, i) => `bf${run}_${i}`)
const sampled = sellers.slice(0, sampleCount)
const sign = (claims: { sellerId?: string; role?: "seller" | "service" }) =>
  Effect.runPromise(signToken(Redacted.make(devJwtSecret), claims))

const { admin, children } = await startIsolatedPrograms("freshness", run, brokers, 3171)

/** Per sampled seller: the POST time of each of its events, in order (the nth is visible once `counts` reach n). */
const posted = new Map<string, Array<number>>(sampled.map((s) => [s, []]))
const visible = new Map<string, number>(sampled.map((s) => [s, 0]))
let latencies: Array<number> = []
let measuring = false
let accepted = 0
let failedPosts = 0
const products = new Map<string, Array<{ readonly id: string; stock: number }>>()
let counter = 0
let lastMillis = 0

const product = (stock: number) => ({ name: "Lamp", category: "home", price: { amountMinor: 4999, currency: "EUR" }, stock, lowStockThreshold: 5 })

/** A lifecycle event of a random seller: a new product, or a stock change of one of its products. */
const makeEvent = () => {
  const sellerId = sellers[Math.floor(Math.random() * sellers.length)]!
  const own = products.get(sellerId) ?? []
  products.set(sellerId, own)
  counter++
  // Distinct eventIds: no two events of a product in the same millisecond.
  const timestamp = new Date((lastMillis = Math.max(Date.now(), lastMillis + 1))).toISOString()
  if (own.length === 0 || Math.random() < 0.5) {
    const productId = `p${counter}`
    own.push({ id: productId, stock: 40 })
    const eventId = makeEventId(sellerId, productId, "ProductCreated", timestamp)
    return { sellerId, json: JSON.stringify({ eventId, eventType: "ProductCreated", timestamp, data: { sellerId, productId, product: product(40) } }) }
  }
  const p = own[Math.floor(Math.random() * own.length)]!
  const before = p.stock
  p.stock = before + 1
  const eventId = makeEventId(sellerId, p.id, "ProductUpdated", timestamp)
  return {
    sellerId,
    json: JSON.stringify({
      eventId, eventType: "ProductUpdated", timestamp,
      data: { sellerId, productId: p.id, product: product(p.stock), changes: { stock: { before, after: p.stock } } }
    })
  }
}

const serviceToken = await sign({ role: "service" })
let lastFailure = ""
const postBatch = (events: ReadonlyArray<{ sellerId: string; json: string }>) => {
  const at = performance.now()
  return send(`${children.gateway.baseUrl}/events`, "POST", { authorization: `Bearer ${serviceToken}`, "content-type": "application/json" }, `[${events.map((e) => e.json).join(",")}]`)
    .then((r) => {
      if (r.status !== 202) {
        failedPosts++
        lastFailure = `${r.status} ${r.body.slice(0, 200)}`
        return
      }
      accepted += events.length
      // Only accepted events count; a seller's events are published in POST order (one POST in flight per tick).
      for (const e of events) posted.get(e.sellerId)?.push(at)
    }, (e) => {
      failedPosts++
      lastFailure = String(e)
    })
}

/** Offers `perSecond` events for `ms`, in 100 ms ticks of POSTs of at most 100 events. */
const offer = (perSecond: number, ms: number) => steadyLoad(perSecond, ms, makeEvent, postBatch)

const pollMetrics = async (stop: () => boolean) => {
  const tokens = new Map(await Promise.all(sampled.map(async (s) => [s, await sign({ sellerId: s, role: "seller" })] as const)))
  while (!stop()) {
    const started = Date.now()
    await Promise.all(sampled.map(async (s) => {
      const r = await send(`${children.analytics.baseUrl}/sellers/${s}/metrics`, "GET", { authorization: `Bearer ${tokens.get(s)}` }).catch(() => undefined)
      if (r?.status !== 200) return
      const counts = (JSON.parse(r.body) as { counts?: { created?: number; updated?: number } }).counts
      const seen = (counts?.created ?? 0) + (counts?.updated ?? 0)
      const now = performance.now()
      const times = posted.get(s)!
      for (let n = visible.get(s)!; n < Math.min(seen, times.length); n++) if (measuring) latencies.push(now - times[n]!)
      visible.set(s, Math.max(visible.get(s)!, seen))
    }))
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + pollMs - Date.now())))
  }
}

const writesOf = () => Promise.all([children.analytics, children.notification].map((c) => dynamoWrites(c.baseUrl).then(total)))

const ms = (values: ReadonlyArray<number>, p: number) => `${percentile(values, p).toFixed(0)} ms`

try {
  await Promise.all(Object.values(children).map((c) => waitUp(c, "/readyz")))
  let stopped = false
  const poller = pollMetrics(() => stopped)
  await offer(Math.min(rate, 100), 5_000) // warm-up: consumers joined, JIT
  await new Promise((resolve) => setTimeout(resolve, 3_000))
  latencies = []
  measuring = true
  const [analyticsBefore, notificationBefore] = await writesOf()
  const acceptedBefore = accepted
  await offer(rate, seconds * 1000)
  const events = accepted - acceptedBefore
  // The last events of the phase become visible after it: wait for them (bounded), then stop measuring.
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline && sampled.some((s) => visible.get(s)! < posted.get(s)!.length)) {
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  const [analyticsAfter, notificationAfter] = await writesOf()
  stopped = true
  await poller
  const missing = sampled.reduce((n, s) => n + posted.get(s)!.length - visible.get(s)!, 0)
  console.log([
    `analytics freshness: ${rate} ev/s offered for ${seconds} s over ${sellerCount} sellers (topic ${topic}); ${events} accepted, ` +
    `${failedPosts} failed POSTs${failedPosts > 0 ? ` (last: ${lastFailure})` : ""}`,
    `  POST -> visible in GET /sellers/{id}/metrics (${sampleCount} sellers polled every ${pollMs} ms, ${latencies.length} events` +
    `${missing > 0 ? `, ${missing} not visible within 30 s` : ""}): p50 ${ms(latencies, 50)}, p99 ${ms(latencies, 99)}, max ${ms(latencies, 100)}`,
    `  DynamoDB write requests per event: analytics-service ${((analyticsAfter - analyticsBefore) / events).toFixed(2)}, ` +
    `notification-service ${((notificationAfter - notificationBefore) / events).toFixed(2)}`
  ].join("\n"))
} finally {
  for (const child of Object.values(children)) {
    const problems = child.logs.filter((l) => /WARN|ERROR|Error/.test(l)).slice(-8)
    if (problems.length > 0) console.log(`${child.name}'s last warnings:\n  ${problems.join("\n  ")}`)
  }
  await Promise.all(Object.values(children).map(stopChild))
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
  await admin.deleteGroups([`${prefix}notification-service`, `${prefix}analytics-service`]).catch(() => undefined)
  await admin.disconnect()
}
