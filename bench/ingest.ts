/**
 * Ingest on the live broker: `POST /events` of 100-event batches to (a) the gateway (its program's
 * composition, as a process) and (b) a bare node:http + kafkajs server doing the same JSON parse and
 * produce (bench/support/ingest-bare.ts), same load, same run, one after the other. Both write to a
 * fresh bench topic; the load comes from this process over keep-alive connections.
 * BENCH_ROUNDS=n alternates the two n times and adds the medians: on a machine others share, the load
 * they add then falls on both alike.
 *
 *   npm run bench:ingest     BENCH_SECONDS=10 BENCH_CONCURRENCY=16 BENCH_ROUNDS=1 npm run bench:ingest
 */
import { randomUUID } from "node:crypto"
import { Effect, Redacted } from "effect"
import { Kafka, logLevel } from "kafkajs"
import { devJwtSecret, signToken } from "../src/services/Tokens.js"
import { benchMessage } from "./events.js"
import { type Child, cpuSeconds, startChild, stopChild, waitUp } from "./support/children.js"
import { closedLoop, send } from "./support/load.js"

const seconds = Number(process.env["BENCH_SECONDS"] ?? 10)
const concurrency = Number(process.env["BENCH_CONCURRENCY"] ?? 16)
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 1)
const batchSize = 100
const brokers = (process.env["KAFKA_BROKERS"] ?? "127.0.0.1:9092").split(",")
const topic = `bench_ingest_${randomUUID().slice(0, 8)}`
const decoder = new TextDecoder()

/** Distinct 100-event bodies (1,000 sellers), reused round robin. */
const bodies = Array.from({ length: 64 }, (_, b) =>
  `[${Array.from({ length: batchSize }, (_, k) => decoder.decode(benchMessage(b * batchSize + k, 1_000).value)).join(",")}]`)

const admin = new Kafka({ clientId: "bench-ingest-admin", brokers, logLevel: logLevel.NOTHING }).admin()
await admin.connect()
await admin.createTopics({ topics: [{ topic, numPartitions: 12 }], waitForLeaders: true })

const token = await Effect.runPromise(signToken(Redacted.make(devJwtSecret), { role: "service" }))
const env = { BENCH_TOPIC: topic, BENCH_GROUP_PREFIX: `${topic}.` }
const gateway = startChild("gateway", "bench/support/program.ts", ["gateway"], 3151, env)
const bare = startChild("bare", "bench/support/ingest-bare.ts", [], 3152, env)

const run = async (child: Child, ms: number) => {
  let i = 0
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" }
  const refused = new Map<number, number>()
  const cpuBefore = cpuSeconds(child.process.pid!)
  const result = await closedLoop(ms, concurrency, async () => {
    const response = await send(`${child.baseUrl}/events`, "POST", headers, bodies[i++ % bodies.length])
    if (response.status !== 202) refused.set(response.status, (refused.get(response.status) ?? 0) + 1)
    return response.status === 202
  })
  const cpu = cpuSeconds(child.process.pid!) - cpuBefore
  return {
    ...result,
    refused,
    eventsPerSecond: Math.round((result.ok * batchSize * 1000) / result.ms),
    cpuShare: cpu / (result.ms / 1000),
    cpuMillisPerBatch: (cpu * 1000) / (result.ok + result.failed)
  }
}

try {
  await Promise.all([waitUp(gateway, "/healthz"), waitUp(bare, "/")])
  // Warm-up: connections, metadata, JIT.
  await run(gateway, 2_000)
  await run(bare, 2_000)
  const line = (name: string, r: Awaited<ReturnType<typeof run>>) =>
    `${name}: ${r.eventsPerSecond} events/s (${r.ok} batches of ${batchSize} accepted, ${r.failed} failed${
      r.refused.size === 0 ? "" : ` [${[...r.refused].map(([status, n]) => `${n}× ${status}`).join(", ")}]`
    }, in ${r.ms} ms; server CPU ${(r.cpuShare * 100).toFixed(0)}%, ${r.cpuMillisPerBatch.toFixed(1)} ms a batch)`
  console.log(`POST /events, ${batchSize}-event batches, ${concurrency} concurrent clients, ${seconds} s each, topic ${topic}`)
  const results: Array<{ ratio: number; gateway: number; bare: number }> = []
  for (let round = 1; round <= rounds; round++) {
    const a = await run(gateway, seconds * 1000)
    const b = await run(bare, seconds * 1000)
    results.push({ ratio: a.eventsPerSecond / b.eventsPerSecond, gateway: a.cpuMillisPerBatch, bare: b.cpuMillisPerBatch })
    console.log([
      ...(rounds > 1 ? [`round ${round}`] : []),
      line("(a) gateway    ", a),
      line("(b) bare server", b),
      `ratio gateway/bare: ${(a.eventsPerSecond / b.eventsPerSecond).toFixed(2)}`
    ].join("\n"))
  }
  if (rounds > 1) {
    const median = (values: Array<number>) => values.sort((x, y) => x - y)[Math.floor(values.length / 2)]!
    console.log(
      `median of ${rounds} rounds: ratio gateway/bare ${median(results.map((r) => r.ratio)).toFixed(2)} ` +
        `(${results.map((r) => r.ratio.toFixed(2)).join(" ")}); server CPU a batch: gateway ${median(results.map((r) => r.gateway)).toFixed(1)} ms, ` +
        `bare ${median(results.map((r) => r.bare)).toFixed(1)} ms`
    )
  }
} finally {
  await Promise.all([stopChild(gateway), stopChild(bare)])
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
  await admin.disconnect()
}
