/**
 * The whole pipeline on the live stack (Kafka, dynalite, Redis, s3rver up): the gateway,
 * notification-service and analytics-service as processes (their programs' composition, on a fresh
 * bench topic and bench consumer groups), a steady offered load of ProductCreated events over
 * `BENCH_SELLERS` sellers in 100-event POSTs, and SSE clients on a sample of sellers. Prints
 * accepted/s, each group's lag over time (max, end), POST -> SSE frame and POST -> visible in
 * `GET /sellers/{id}/metrics` latencies (of the main phase and what follows; the streams are open and the
 * metrics polled from the warm-up on), and the CPU of every process, this one and the whole machine. Then steps the load up
 * (`BENCH_STEPS`) and reports the highest load with lag bounded, what saturated first (the machine's
 * cores, or one process at a whole core) in the first phase whose lag was not bounded, each service's DynamoDB write requests
 * per event, and the stores' own ceiling (dynalite conditional puts/s with the services' client) for comparison.
 *
 *   npm run bench:pipeline
 *   BENCH_RATE=1000 BENCH_SECONDS=20 BENCH_STEPS=2000,3000 BENCH_STEP_SECONDS=15 npm run bench:pipeline
 */
import { randomUUID } from "node:crypto"
import { Duration, Effect, Redacted } from "effect"
import { makeEventId } from "../src/domain/ProductEvent.js"
import { devJwtSecret, signToken } from "../src/services/Tokens.js"
import { machineSeconds } from "./support/cpu.js"
import { cpuSeconds, startIsolatedPrograms, stopChild, threadCpuSeconds, waitUp } from "./support/children.js"
import { measureCeiling } from "./support/ceiling.js"
import { send, steadyLoad } from "./support/load.js"
import { dynamoWrites, total } from "./support/metrics.js"
import { openSse, percentile } from "./support/sse.js"
import { storePids } from "./support/stores.js"

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const rate = num("BENCH_RATE", 1_000)
const seconds = num("BENCH_SECONDS", 60)
const sellerCount = num("BENCH_SELLERS", 1_000)
const sseSample = num("BENCH_SSE_SELLERS", 50)
const steps = (process.env["BENCH_STEPS"] ?? "2000,3000,4000").split(",").filter((s) => s !== "").map(Number)
const stepSeconds = num("BENCH_STEP_SECONDS", 30)
/** Sellers whose metrics are polled, and how often: each poll is a GET per seller on analytics-service, part of its load. */
const metricsSample = num("BENCH_METRICS_SELLERS", 10)
const pollMs = num("BENCH_POLL_MS", 100)
const brokers = (process.env["KAFKA_BROKERS"] ?? "127.0.0.1:9092").split(",")
const run = randomUUID().slice(0, 8)
const topic = `bench_pipeline_${run}`
const prefix = `${topic}.`
const groups = ["notification-service", "analytics-service"].map((g) => `${prefix}${g}`)
const sellers = Array.from({ length: sellerCount }, (_, i) => `bp${run}_${i}`)
const sampled = sellers.slice(0, sseSample)
const metricsSampled = sellers.slice(0, metricsSample)
const sign = (claims: { sellerId?: string; role?: "seller" | "service" }) =>
  Effect.runPromise(signToken(Redacted.make(devJwtSecret), claims))

const { admin, children, env: tables } = await startIsolatedPrograms("pipeline", run, brokers, 3161)
const stores = storePids()

/** Lag of each bench group: end offsets minus committed (nothing committed counts from 0). */
const lags = async (): Promise<Array<number>> => {
  const ends = await admin.fetchTopicOffsets(topic)
  return Promise.all(groups.map(async (groupId) => {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
    return ends.reduce((sum, end) => {
      const at = Number(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1)
      return sum + Number(end.high) - Math.max(0, at)
    }, 0)
  }))
}

// What is measured, per phase.
const postedAt = new Map<string, number>()
let sseLatencies: Array<number> = []
let visibleLatencies: Array<number> = []
const sellerPosts = new Map<string, Array<number>>(metricsSampled.map((s) => [s, []]))
const seen = new Map<string, number>(metricsSampled.map((s) => [s, 0]))
let productCounter = 0
let accepted = 0
let failedPosts = 0

const serviceToken = await sign({ role: "service" })
const postBatch = (events: Array<{ sellerId: string; json: string; eventId: string }>) => {
  const at = performance.now()
  for (const e of events) if (postedAt.size < 200_000 && sampled.includes(e.sellerId)) postedAt.set(e.eventId, at)
  return send(`${children.gateway.baseUrl}/events`, "POST", { authorization: `Bearer ${serviceToken}`, "content-type": "application/json" }, `[${events.map((e) => e.json).join(",")}]`)
    .then((r) => {
      if (r.status !== 202) return failedPosts++
      accepted += events.length
      // Only accepted events can show in the metrics: a failed POST's would shift every later one's POST time.
      for (const e of events) {
        const posts = sellerPosts.get(e.sellerId)
        if (posts === undefined) continue
        posts.push(at)
        if (posts.length > 1 && posts[posts.length - 2]! > at) posts.sort((a, b) => a - b)
      }
    }, () => failedPosts++)
}
const makeEvent = () => {
  const sellerId = sellers[Math.floor(Math.random() * sellers.length)]!
  const productId = `p${productCounter++}`
  const timestamp = new Date().toISOString()
  const eventId = makeEventId(sellerId, productId, "ProductCreated", timestamp)
  const json = JSON.stringify({
    eventId, eventType: "ProductCreated", timestamp,
    data: { sellerId, productId, product: { name: "Lamp", category: "home", price: { amountMinor: 4999, currency: "EUR" }, stock: 40, lowStockThreshold: 5 } }
  })
  return { sellerId, eventId, json }
}

/** Both services' DynamoDB write requests so far; undefined when a service's /metrics did not answer. */
const storeWrites = async () => {
  const counts = await Promise.all((["notification", "analytics"] as const).map((s) => dynamoWrites(children[s].baseUrl).then(total, () => undefined)))
  return counts.some((n) => n === undefined) ? undefined : counts.reduce((a: number, b) => a + b!, 0)
}
/** The highest phase average of DynamoDB write requests/s, to compare with the store's own ceiling. */
let peakWrites = 0

/** The least-squares slope of ys over xs (0 for fewer than two points). */
const slope = (xs: ReadonlyArray<number>, ys: ReadonlyArray<number>): number => {
  if (xs.length < 2) return 0
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length
  const my = ys.reduce((a, b) => a + b, 0) / ys.length
  let num = 0
  let den = 0
  xs.forEach((x, k) => {
    num += (x - mx) * (ys[k]! - my)
    den += (x - mx) ** 2
  })
  return den === 0 ? 0 : num / den
}

/** Offers `perSecond` events for `ms`, in 100 ms ticks of 100-event POSTs; samples lag every second. */
const offer = async (perSecond: number, ms: number) => {
  const writesBefore = await storeWrites()
  const startedAt = Date.now()
  const cpuBefore = Object.fromEntries(Object.entries(measuredPids()).map(([n, pid]) => [n, cpuSeconds(pid)]))
  const threadsBefore = Object.fromEntries(Object.entries(measuredPids()).map(([n, pid]) => [n, threadCpuSeconds(pid)]))
  const machineBefore = machineSeconds()
  const acceptedBefore = accepted
  const lagSamples: Array<Array<number>> = []
  /** Seconds from the phase's start at which each lag sample was read. */
  const lagAt: Array<number> = []
  const addSample = (l: Array<number>) => {
    lagSamples.push(l)
    lagAt.push((Date.now() - startedAt) / 1000)
  }
  await steadyLoad(perSecond, ms, makeEvent, postBatch, (tick) => {
    if (tick % 10 === 0) void lags().then(addSample, () => undefined)
  })
  // CPU read at the same moment as the phase's length.
  const elapsed = (Date.now() - startedAt) / 1000
  const cpu = Object.fromEntries(Object.entries(measuredPids()).map(([n, pid]) => [n, (cpuSeconds(pid) - cpuBefore[n]!) / elapsed]))
  /** Each process's busiest thread, as a share of one core: a process with threads (the JVM, a worker pool) may pass one core in total with none saturated. */
  const busiestThread = Object.fromEntries(Object.entries(measuredPids()).map(([n, pid]) => {
    const before = threadsBefore[n]!
    const shares = [...threadCpuSeconds(pid)].map(([tid, seconds]) => (seconds - (before.get(tid) ?? 0)) / elapsed)
    return [n, Math.max(0, ...shares)]
  }))
  const machineAfter = machineSeconds()
  const machine = machineBefore === undefined || machineAfter === undefined
    ? undefined
    : { busy: (machineAfter.busy - machineBefore.busy) / elapsed, cores: (machineAfter.total - machineBefore.total) / elapsed }
  const endLag = await lags()
  addSample(endLag)
  const writesAfter = await storeWrites()
  const writesPerSecond = writesBefore === undefined || writesAfter === undefined ? undefined : Math.round((writesAfter - writesBefore) / elapsed)
  peakWrites = Math.max(peakWrites, writesPerSecond ?? 0)
  const half = Math.floor(lagSamples.length / 2)
  /** Each group's lag growth over the phase's second half, events/s: offered minus consumed, once past the start. */
  const lagGrowth = groups.map((_, i) => slope(lagAt.slice(half), lagSamples.slice(half).map((l) => l[i]!)))
  return { acceptedPerSecond: Math.round((accepted - acceptedBefore) / elapsed), lagSamples, endLag, lagGrowth, cpu, busiestThread, machine, writesPerSecond }
}
/** The programs, the stand-in servers, and this process (load, SSE clients, metrics polls): it shares the machine. */
const measuredPids = () => ({ ...Object.fromEntries(Object.entries(children).map(([n, c]) => [n, c.process.pid!])), ...stores, bench: process.pid })

const pollMetrics = async (stop: () => boolean) => {
  const tokens = new Map(await Promise.all(metricsSampled.map(async (s) => [s, await sign({ sellerId: s, role: "seller" })] as const)))
  while (!stop()) {
    const started = Date.now()
    await Promise.all(metricsSampled.map(async (s) => {
      const r = await send(`${children.analytics.baseUrl}/sellers/${s}/metrics`, "GET", { authorization: `Bearer ${tokens.get(s)}` }).catch(() => undefined)
      if (r?.status !== 200) return
      const created = (JSON.parse(r.body) as { counts?: { created?: number } }).counts?.created ?? 0
      const now = performance.now()
      const posts = sellerPosts.get(s)!
      for (let n = seen.get(s)!; n < Math.min(created, posts.length); n++) visibleLatencies.push(now - posts[n]!)
      seen.set(s, Math.max(seen.get(s)!, created))
    }))
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + pollMs - Date.now())))
  }
}

const describe = (name: string, perSecond: number, r: Awaited<ReturnType<typeof offer>>) => {
  const lagLine = groups.map((g, i) =>
    `${g.slice(prefix.length)} max ${Math.max(...r.lagSamples.map((l) => l[i]!))} end ${r.endLag[i]}, growing ${Math.round(r.lagGrowth[i]!)}/s over the second half`
  ).join("; ")
  const machine = r.machine === undefined
    ? ""
    : `; machine busy ${(r.machine.busy * 100).toFixed(0)}% of ${(r.machine.cores * 100).toFixed(0)}% (${Math.round(r.machine.cores)} cores)`
  const cpuLine = Object.entries(r.cpu).map(([n, share]) => `${n} ${(share * 100).toFixed(0)}%`).join(", ") + machine
  return [
    `${name}: offered ${perSecond} ev/s, accepted ${r.acceptedPerSecond} ev/s (${failedPosts} failed POSTs so far)`,
    `  lag: ${lagLine}`,
    `  lag over time (notification/analytics): ${r.lagSamples.map((l) => l.join("/")).join(" ")}`,
    `  CPU (share of one core): ${cpuLine}`,
    `  DynamoDB write requests (both services): ${r.writesPerSecond === undefined ? "unknown (a /metrics did not answer)" : `${r.writesPerSecond}/s`}`
  ].join("\n")
}
/**
 * Seconds of load a group's committed offset may trail by design: analytics-service commits a record once
 * its archive file is uploaded, so up to a file's age (`ARCHIVE_MAX_AGE`, 15 s) behind what it has counted.
 * Under load it trails by more (a hot batch fills while the previous one is applied, up to `HOT_MAX_EVENTS`),
 * so past this allowance a group's lag is judged by its growth, not its level.
 */
const archiveAge = Duration.toSeconds(Duration.decode((process.env["ARCHIVE_MAX_AGE"] ?? "15 seconds") as Duration.DurationInput))
const allowedSeconds = [2, archiveAge + 2]
/** Lag growth, as a share of the offered load, below which a group keeps up: its lag's noise, not a backlog building. */
const growthAllowed = 0.05
/**
 * Lag bounded: at the end within the group's allowance, or not growing over the phase's second half (a
 * least-squares fit of its samples) by more than `growthAllowed` of the offered load. A lag that moves
 * up and down around a level (batches, commits) is bounded; one that builds at a steady rate is not.
 * analytics-service's lag rises for about its first minute under a new load (its archive files' age
 * limit doubles from 1 s to `ARCHIVE_MAX_AGE`, and its hot batches grow while the store is slow), so a
 * shorter phase may find it growing where a longer one finds it level.
 */
const bounded = (r: Awaited<ReturnType<typeof offer>>, perSecond: number) =>
  r.endLag.every((end, i) => end <= allowedSeconds[i]! * perSecond || r.lagGrowth[i]! <= growthAllowed * perSecond)
/** A process whose busiest thread used this share of one core is taken as saturated (a Node.js program's main thread). */
const oneCoreLimit = 0.9
/** The machine at this share of its cores is taken as saturated: every process then competes for the CPU. */
const machineLimit = 0.95

/** What saturated first in a phase whose lag grew: a process's thread at its one core, the machine's cores, or neither (waits, not CPU). */
const saturation = (r: Awaited<ReturnType<typeof offer>>): string => {
  const byShare = Object.entries(r.cpu).sort((a, b) => b[1] - a[1])
  const busiest = byShare.slice(0, 3).map(([n, share]) => `${n} ${(share * 100).toFixed(0)}%`).join(", ")
  const atCore = Object.entries(r.busiestThread).filter(([, share]) => share >= oneCoreLimit)
  if (atCore.length > 0) {
    const threads = atCore.map(([n, share]) => `${n}'s busiest thread at ${(share * 100).toFixed(0)}%`).join(", ")
    return `${threads} of one core (whole processes: ${busiest})`
  }
  if (r.machine !== undefined && r.machine.busy >= machineLimit * r.machine.cores) {
    const thread = Object.entries(r.busiestThread).sort((a, b) => b[1] - a[1])[0]
    const busiestThread = thread === undefined ? "" : `; busiest thread: ${thread[0]}'s, ${(thread[1] * 100).toFixed(0)}%`
    return `the machine's cores (busy ${(r.machine.busy * 100).toFixed(0)}% of ${(r.machine.cores * 100).toFixed(0)}%), with no thread at a whole core: they share it (busiest: ${busiest}${busiestThread})`
  }
  return `no process nor the machine (busiest: ${busiest}): the lag grew on waits, not CPU`
}
const ms = (values: ReadonlyArray<number>, p: number) => `${percentile(values, p).toFixed(1)} ms`

/**
 * DynamoDB write requests per accepted event, by service and operation, from each service's
 * `dynamodb_write_requests_total` (every event of the run is a lifecycle event: both services handle all).
 */
const writesPerEvent = async () => {
  if (accepted === 0) return "DynamoDB write requests per event: no event accepted"
  const lines = [`DynamoDB write requests per event (${accepted} events accepted in the whole run):`]
  for (const service of ["notification", "analytics"] as const) {
    const writes = await dynamoWrites(children[service].baseUrl).catch((e: Error) => e)
    if (writes instanceof Error) {
      lines.push(`  ${service}: unknown (${writes.message})`)
      continue
    }
    const parts = [...writes].map(([k, v]) => `${k.replace(/^bench[-_]pipeline[-_][0-9a-f]+[-_]/, "")} ${(v / accepted).toFixed(2)}`).join(", ")
    lines.push(`  ${service}: ${(total(writes) / accepted).toFixed(2)} (${parts || "none counted"})`)
  }
  return lines.join("\n")
}

/** Accepted events of the polled sellers that no poll saw: left out of the latencies, so printed. */
const neverSeen = () => metricsSampled.reduce((n, s) => n + Math.max(0, sellerPosts.get(s)!.length - seen.get(s)!), 0)

const closers: Array<() => void> = []
let closing = false
try {
  await Promise.all(Object.values(children).map((c) => waitUp(c, "/healthz")))
  for (const s of sampled) {
    const token = await sign({ sellerId: s, role: "seller" })
    closers.push(openSse(`${children.notification.baseUrl}/sellers/${s}/notifications/stream?access_token=${token}`, (id, at) => {
      const posted = postedAt.get(id)
      if (posted !== undefined) {
        sseLatencies.push(at - posted)
        postedAt.delete(id)
      }
    }, (e) => closing || console.error(`SSE ${s}: ${String(e)}`)))
  }
  // The metrics are polled from the warm-up on, as the SSE streams are open from it: an event of the warm-up
  // is booked when a poll first sees it, not as the time from its POST to the first poll of the main phase.
  let stopped = false
  const poller = pollMetrics(() => stopped)
  await offer(100, 5_000) // warm-up: consumers joined, connections open, JIT
  sseLatencies = []
  visibleLatencies = []
  const main = await offer(rate, seconds * 1000)
  const lines = [
    `pipeline: ${sellerCount} sellers, ${sseSample} with an SSE client, topic ${topic}`,
    describe(`steady ${seconds} s`, rate, main),
    `  POST -> SSE frame: p50 ${ms(sseLatencies, 50)}, p99 ${ms(sseLatencies, 99)}, max ${ms(sseLatencies, 100)} (${sseLatencies.length} frames)`
  ]
  console.log(lines.join("\n"))
  let sustained = bounded(main, rate) ? rate : 0
  // The first phase whose lag was not bounded: the main one, or the step that ended the stepping.
  let saturated = sustained === 0 ? { load: rate, r: main } : undefined
  for (const step of sustained === 0 ? [] : steps) {
    const r = await offer(step, stepSeconds * 1000)
    const ok = bounded(r, step)
    console.log(describe(`step ${stepSeconds} s`, step, r) + `\n  lag bounded (not growing): ${ok}`)
    if (!ok) {
      saturated = { load: step, r }
      break
    }
    sustained = step
  }
  console.log(`sustained (highest offered load with lag bounded): ${sustained} ev/s`)
  console.log(saturated === undefined
    ? `saturated first: nothing up to ${sustained} ev/s (add BENCH_STEPS)`
    : `saturated first, at ${saturated.load} ev/s: ${saturation(saturated.r)}`)
  const drainStart = Date.now()
  while (Date.now() - drainStart < 120_000 && (await lags()).some((l) => l > 0)) await new Promise((r) => setTimeout(r, 1_000))
  console.log(`drained in ${((Date.now() - drainStart) / 1000).toFixed(0)} s`)
  // analytics-service shows events in its pending records (HOT_FRESH_AFTER) or applied; the last ones need a moment after the drain.
  await new Promise((resolve) => setTimeout(resolve, 8_000))
  stopped = true
  await poller
  console.log(`POST -> visible in metrics (${metricsSampled.length} sellers, whole run): p50 ${ms(visibleLatencies, 50)}, p99 ${ms(visibleLatencies, 99)}, max ${ms(visibleLatencies, 100)} (${visibleLatencies.length} events; ${neverSeen()} accepted never seen)`)
  console.log(await writesPerEvent())
  if (process.env["BENCH_CEILING"] !== "0") {
    const ceiling = await measureCeiling(run, tables.NOTIFICATIONS_TABLE)
    console.log(ceiling.line)
    // Requests, not items: a claims BatchWriteItem (up to 25 puts) counts once, so this understates the items written.
    console.log(`pipeline's highest phase rate of DynamoDB write requests: ${peakWrites}/s, ${(peakWrites / ceiling.perSecond).toFixed(2)}x the ceiling`)
  }
} finally {
  closing = true
  for (const close of closers) close()
  for (const child of Object.values(children)) {
    const problems = child.logs.filter((l) => /WARN|ERROR|Error/.test(l)).slice(-8)
    if (problems.length > 0) console.log(`${child.name}'s last warnings:\n  ${problems.join("\n  ")}`)
  }
  await Promise.all(Object.values(children).map(stopChild))
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
  await admin.deleteGroups(groups).catch(() => undefined)
  await admin.disconnect()
}
