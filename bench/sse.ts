/**
 * `npm run bench:sse`: SSE fan-out under load, ours against a bare node:http broadcaster in the same run.
 *
 *   npm run bench:sse -- --subscribers 5000 --sellers 100 --rounds 5 --targets baseline,embedded,live
 *
 * Per target: raw-socket subscribers spread over the sellers connect (connect time, refused), one
 * warm-up round, then `rounds` rounds of one event per seller posted through POST /events; latency
 * from the POST to each frame (p50/p99/max), frames delivered/expected, server RSS (idle, connected,
 * per subscriber) and CPU. Targets: `baseline` (bench/sse-baseline.ts), `embedded` (npm start's
 * program), `live` (gateway + two notification processes on Kafka/DynamoDB/Redis, subscribers split).
 */
import { type ChildProcess, execSync, fork, spawn } from "node:child_process"
import { createWriteStream, readFileSync } from "node:fs"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import { Effect, Redacted } from "effect"
import { makeEventId } from "../src/domain/ProductEvent.js"
import { devJwtSecret, signToken } from "../src/services/Tokens.js"
import type { Command, Reply, Target } from "./sse-clients.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}
const subscribersWanted = Number(arg("subscribers", "1000"))
const sellers = Number(arg("sellers", "100"))
const rounds = Number(arg("rounds", "5"))
const targets = arg("targets", "baseline,embedded").split(",")
const liveSubscribersWanted = Number(arg("live-subscribers", String(subscribersWanted)))
/** Extra node flags for the servers, e.g. `--server-node-args "--cpu-prof --cpu-prof-dir=prof"`. */
const serverNodeArgs = arg("server-node-args", "").split(" ").filter((a) => a.length > 0)
/** Every line each server writes goes to `<this>.<server>` (e.g. with `--server-node-args --trace-gc`); by default only warnings and errors are kept, for a failure's message. */
const serverLog = arg("server-log", "")
const concurrency = Number(arg("concurrency", "200"))
const roundTimeoutMs = Number(arg("round-timeout-ms", "60000"))
const goals = { p99Ratio: Number(arg("p99-ratio", "1.5")), kibPerSubscriber: Number(arg("kib-per-subscriber", "25")), connectRatio: Number(arg("connect-ratio", "2")) }

// Every process (client or server) needs one descriptor per connection, plus its own files and sockets.
const fdLimit = Number(execSync("ulimit -n", { shell: "/bin/bash" }).toString().trim())
const perProcess = fdLimit - 300
const clamp = (wanted: number, max: number, what: string) => {
  if (wanted <= max) return wanted
  console.log(`! ulimit -n is ${fdLimit}: ${what} allows ${max} subscribers, not ${wanted} (raise the soft limit up to \`ulimit -Hn\`)`)
  return max
}
const subscribers = clamp(subscribersWanted, perProcess, "one server process")
const liveSubscribers = clamp(liveSubscribersWanted, 2 * perProcess, "two notification processes")

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const now = () => performance.timeOrigin + performance.now()
const run = `b${Date.now().toString(36).slice(-5)}`
const sellerIds = Array.from({ length: sellers }, (_, i) => `${run}_${i}`)
const secret = Redacted.make(process.env["AUTH_JWT_SECRET"] ?? devJwtSecret)
const tokens = await Promise.all(sellerIds.map((sellerId) => Effect.runPromise(signToken(secret, { sellerId }))))
const serviceToken = await Effect.runPromise(signToken(secret, { role: "service" }))

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

interface Server { readonly name: string; readonly port: number; readonly child: ChildProcess; readonly logs: Array<string> }

// Whatever happens to the bench, no server it started outlives it.
const children = new Set<ChildProcess>()
process.on("exit", () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
})

/** The local servers of `npm run infra:up`, unless the environment says otherwise. */
const liveEnv = {
  INFRA: "live",
  KAFKA_BROKERS: process.env["KAFKA_BROKERS"] ?? "127.0.0.1:9092",
  REDIS_URL: process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379",
  DYNAMODB_ENDPOINT: process.env["DYNAMODB_ENDPOINT"] ?? "http://127.0.0.1:8000",
  AWS_REGION: process.env["AWS_REGION"] ?? "us-east-1",
  AWS_ACCESS_KEY_ID: process.env["AWS_ACCESS_KEY_ID"] ?? "local",
  AWS_SECRET_ACCESS_KEY: process.env["AWS_SECRET_ACCESS_KEY"] ?? "local",
  NOTIFICATIONS_TABLE: "bench-sse-notifications",
  NOTIFICATION_COUNTERS_TABLE: "bench-sse-notification-counters"
}

const startServer = (name: string, file: string, port: number, env: Record<string, string>): Server => {
  const child = spawn(process.execPath, [...serverNodeArgs, "--import", "tsx", file], {
    cwd: root,
    // Many subscribers per seller (subscribers / sellers) and one publishing token: beyond the default limits.
    env: { SSE_MAX_STREAMS_PER_SELLER: "1000000", GATEWAY_RATE_LIMIT: "1000000000", ...process.env, PORT: String(port), HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  children.add(child)
  const logs: Array<string> = []
  const keep = (data: Buffer) => {
    logs.push(...data.toString().split("\n").filter((l) => /"level":"(WARN|ERROR|FATAL)"|level=(WARN|ERROR|FATAL)|Error/.test(l)))
    if (logs.length > 50) logs.splice(0, logs.length - 50)
  }
  child.stdout!.on("data", keep)
  child.stderr!.on("data", keep)
  if (serverLog !== "") {
    // One file per server (FILE.<server>), ended once both its streams closed.
    const file = createWriteStream(`${serverLog}.${name}`, { flags: "a" })
    file.on("error", (e) => console.error(`  --server-log ${serverLog}.${name}: ${e.message}`))
    child.stdout!.pipe(file, { end: false })
    child.stderr!.pipe(file, { end: false })
    child.once("close", () => file.end())
  }
  return { name, port, child, logs }
}

const waitReady = async (server: Server) => {
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(200)) {
    if (server.child.exitCode !== null) throw new Error(`${server.name} exited: ${server.logs.join("\n")}`)
    const ok = await fetch(`http://127.0.0.1:${server.port}/readyz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false)
    if (ok) return
  }
  throw new Error(`${server.name} not ready: ${server.logs.join("\n")}`)
}

const stopServer = async (server: Server) => {
  const started = Date.now()
  const exited = new Promise<number | null>((resolve) => server.child.once("exit", (code) => resolve(code)))
  server.child.kill("SIGTERM")
  const code = await Promise.race([exited, sleep(15_000).then(() => "timeout" as const)])
  if (code === "timeout") server.child.kill("SIGKILL")
  return { code, ms: Date.now() - started }
}

/** RSS in bytes and CPU seconds (user + system) of a process, from /proc. */
const usage = (pid: number) => {
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return { rss, cpu: (Number(fields[11]) + Number(fields[12])) / 100 }
}
const totalUsage = (servers: ReadonlyArray<Server>) =>
  servers.map((s) => usage(s.child.pid!)).reduce((a, b) => ({ rss: a.rss + b.rss, cpu: a.cpu + b.cpu }), { rss: 0, cpu: 0 })

/** Subscriber processes, each within the descriptor limit. */
const startClients = (count: number) =>
  Array.from({ length: Math.max(1, Math.ceil(count / perProcess)) }, () => {
    const child = fork(`${root}/bench/sse-clients.ts`, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] })
    children.add(child)
    const ask = <T extends Reply["type"]>(command: Command, answer: T) =>
      new Promise<Extract<Reply, { type: T }>>((resolve) => {
        const on = (reply: Reply) => {
          if (reply.type !== answer) return
          child.off("message", on)
          resolve(reply as Extract<Reply, { type: T }>)
        }
        child.on("message", on)
        child.send(command)
      })
    return { child, ask }
  })

const eventsOf = (round: number) =>
  sellerIds.map((sellerId, i) => {
    const productId = `r${round}`
    const timestamp = new Date(Date.UTC(2026, 10, 26, 20) + round * 1000 + i).toISOString()
    return {
      eventId: makeEventId(sellerId, productId, "ProductCreated", timestamp),
      eventType: "ProductCreated",
      timestamp,
      data: { sellerId, productId, product: { name: "Lamp", category: "home", price: { amountMinor: 4999, currency: "EUR" }, stock: 40, lowStockThreshold: 5 } }
    }
  })

const quantile = (sorted: Float64Array, q: number) => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

interface Result {
  readonly target: string
  readonly subscribers: number
  readonly connected: number
  readonly refused: number
  readonly connectMs: number
  readonly delivered: number
  readonly expected: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly idleRss: number
  readonly connectedRss: number
  readonly rss: number
  readonly cpu: number
  readonly stop: string
}

const measure = async (target: string, servers: ReadonlyArray<Server>, publishPort: number, count: number): Promise<Result> => {
  await Promise.all(servers.map(waitReady))
  await sleep(1000)
  const idle = totalUsage(servers)
  const ports = servers.filter((s) => s.name !== "gateway").map((s) => s.port)
  const all: Array<Target> = Array.from({ length: count }, (_, i) => ({ port: ports[i % ports.length]!, seller: sellerIds[i % sellers]!, token: tokens[i % sellers]! }))
  const clients = startClients(count)
  const per = Math.ceil(count / clients.length)
  const connects = await Promise.all(clients.map((c, k) => c.ask({ type: "connect", targets: all.slice(k * per, (k + 1) * per), concurrency: Math.ceil(concurrency / clients.length) }, "connected")))
  const connected = connects.reduce((n, c) => n + c.connected, 0)
  const refused = connects.reduce((n, c) => n + c.refused, 0)
  const connectMs = Math.max(...connects.map((c) => c.elapsedMs))
  await sleep(1000)
  const connectedUsage = totalUsage(servers)
  if (refused > 0) console.log(`  ${target}: ${refused} refused, e.g. ${connects.find((c) => c.firstError)?.firstError}`)
  const postedAt = new Map<number, number>()
  const expectedPerRound = connected
  for (let round = 0; round <= rounds; round++) {
    postedAt.set(round, now())
    const response = await fetch(`http://127.0.0.1:${publishPort}/events`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${serviceToken}` },
      body: JSON.stringify(eventsOf(round)),
      signal: AbortSignal.timeout(30_000)
    })
    if (response.status !== 202) console.log(`  ${target}: POST /events answered ${response.status}: ${await response.text()}`)
    for (const deadline = Date.now() + (round === 0 ? 2 * roundTimeoutMs : roundTimeoutMs); Date.now() < deadline; await sleep(20)) {
      const counts = await Promise.all(clients.map((c) => c.ask({ type: "count" }, "count")))
      if (counts.reduce((n, c) => n + (c.perRound[round] ?? 0), 0) >= expectedPerRound) break
    }
    if (round === 0) await sleep(500)
  }
  const after = totalUsage(servers)
  const reports = await Promise.all(clients.map((c) => c.ask({ type: "report" }, "report")))
  const latencies: Array<number> = []
  for (const report of reports) {
    for (const [round, times] of Object.entries(report.received)) {
      if (Number(round) === 0) continue
      for (const t of times) latencies.push(t - postedAt.get(Number(round))!)
    }
  }
  const sorted = Float64Array.from(latencies).sort()
  await Promise.all(clients.map((c) => c.ask({ type: "close" }, "closed")))
  const stops = await Promise.all(servers.map(stopServer))
  return {
    target, subscribers: count, connected, refused, connectMs,
    delivered: latencies.length, expected: connected * rounds,
    p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1] ?? NaN,
    idleRss: idle.rss, connectedRss: connectedUsage.rss, rss: after.rss, cpu: after.cpu - idle.cpu,
    stop: stops.map((s) => `exit ${s.code} in ${s.ms} ms`).join(", ")
  }
}

/** Memory each connected subscriber adds to the idle process (after connecting, before any event). */
const kibPerSubscriber = (r: Result) => (r.connectedRss - r.idleRss) / 1024 / r.subscribers
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`
const results: Array<Result> = []
console.log(`bench:sse  subscribers ${subscribers} (live ${liveSubscribers}) over ${sellers} sellers, ${rounds} rounds, ulimit -n ${fdLimit}`)
for (const target of targets) {
  if (target === "baseline") {
    const port = await freePort()
    results.push(await measure(target, [startServer("baseline", "bench/sse-baseline.ts", port, {})], port, subscribers))
  } else if (target === "embedded") {
    const port = await freePort()
    results.push(await measure(target, [startServer("embedded", "src/programs/embedded.ts", port, { INFRA: "memory" })], port, subscribers))
  } else if (target === "live") {
    const env = liveEnv
    const [g, a, b] = [await freePort(), await freePort(), await freePort()]
    const servers = [
      startServer("gateway", "src/programs/gateway.ts", g, { ...env, KAFKA_CLIENT_ID: `${run}-gateway` }),
      startServer("notification-a", "src/programs/notification.ts", a, { ...env, KAFKA_CLIENT_ID: `${run}-a` }),
      startServer("notification-b", "src/programs/notification.ts", b, { ...env, KAFKA_CLIENT_ID: `${run}-b` })
    ]
    results.push(await measure(target, servers, g, liveSubscribers))
  } else {
    console.log(`unknown target ${target} (baseline, embedded, live)`)
    process.exit(2)
  }
  const r = results[results.length - 1]!
  console.log(`  ${r.target} done: ${r.connected}/${r.subscribers} connected, ${r.delivered}/${r.expected} frames, p99 ${r.p99.toFixed(0)} ms; shutdown ${r.stop}`)
}

console.log("\n| target | subscribers | connected | refused | connect time | delivered/expected | p50 | p99 | max | RSS idle | RSS connected | RSS after | KiB/subscriber | CPU s |")
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for (const r of results) {
  console.log(`| ${r.target} | ${r.subscribers} | ${r.connected} | ${r.refused} | ${(r.connectMs / 1000).toFixed(2)} s | ${r.delivered}/${r.expected} | ${r.p50.toFixed(0)} ms | ${r.p99.toFixed(0)} ms | ${r.max.toFixed(0)} ms | ${mib(r.idleRss)} | ${mib(r.connectedRss)} | ${mib(r.rss)} | ${kibPerSubscriber(r).toFixed(1)} | ${r.cpu.toFixed(1)} |`)
}
const baseline = results.find((r) => r.target === "baseline")
if (baseline !== undefined) {
  for (const r of results.filter((x) => x !== baseline)) {
    const p99 = r.p99 / baseline.p99
    const rss = r.rss / baseline.rss
    const connect = r.connectMs / baseline.connectMs
    const kib = kibPerSubscriber(r)
    const ok = (pass: boolean) => (pass ? "ok" : "MISSED")
    console.log(`${r.target}/baseline: p99 ${p99.toFixed(2)}x (goal ${goals.p99Ratio}x: ${ok(p99 <= goals.p99Ratio)}), RSS ${rss.toFixed(2)}x, connect ${connect.toFixed(2)}x (goal ${goals.connectRatio}x: ${ok(connect <= goals.connectRatio)}), ${kib.toFixed(1)} KiB/subscriber (goal ${goals.kibPerSubscriber}: ${ok(kib <= goals.kibPerSubscriber)}), all delivered: ${ok(r.delivered === r.expected && r.refused === 0)}`)
  }
}
process.exit(0)
