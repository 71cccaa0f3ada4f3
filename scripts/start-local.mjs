#!/usr/bin/env node
// `npm run start:local`: the real servers (infra/up.sh), then the gateway, notification-service and
// analytics-service as separate processes on them, logs prefixed by service. Ctrl-C or SIGTERM sends
// SIGTERM to every program (each drains, commits and exits), waits for them, and exits non-zero if any
// program did. A second Ctrl-C kills what is left. Dependency-free on purpose.
//
// Env: GATEWAY_PORT (3000), NOTIFICATION_PORT (3001), ANALYTICS_PORT (3002),
// START_LOCAL_READY_TIMEOUT (seconds, 60), START_LOCAL_STOP_TIMEOUT (seconds, 40), NO_COLOR.
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { constants } from "node:os"
import { dirname, join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const seconds = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback)
  return Number.isFinite(value) && value > 0 ? value * 1000 : fallback * 1000
}
const readyTimeoutMs = seconds("START_LOCAL_READY_TIMEOUT", 60)
const stopTimeoutMs = seconds("START_LOCAL_STOP_TIMEOUT", 40)
const colour = process.stdout.isTTY && process.env.NO_COLOR === undefined
const paint = (code, text) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text)
const say = (text) => console.log(`${paint("1", "[start:local]")} ${text}`)

const programs = [
  { name: "gateway", file: "src/programs/gateway.ts", portVar: "GATEWAY_PORT", port: 3000, colour: "36" },
  { name: "notification", file: "src/programs/notification.ts", portVar: "NOTIFICATION_PORT", port: 3001, colour: "35" },
  { name: "analytics", file: "src/programs/analytics.ts", portVar: "ANALYTICS_PORT", port: 3002, colour: "33" }
].map((p) => ({ ...p, port: Number(process.env[p.portVar] ?? p.port) }))

/** Runs infra/up.sh with its output shown; resolves with the `NAME=value` lines it prints. */
const infraUp = () =>
  new Promise((resolve, reject) => {
    const child = spawn("bash", [join(root, "infra/up.sh")], { cwd: root, stdio: ["ignore", "pipe", "inherit"] })
    const env = {}
    createInterface({ input: child.stdout }).on("line", (line) => {
      const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line)
      if (match) env[match[1]] = match[2]
      console.log(line)
    })
    child.once("error", reject)
    child.once("exit", (code) => (code === 0 ? resolve(env) : reject(new Error(`infra/up.sh failed (exit ${code})`))))
  })

const children = []
let stopping = false

const pipeLines = (stream, prefix, sink) =>
  createInterface({ input: stream }).on("line", (line) => sink.write(`${prefix} ${line}\n`))

/**
 * The dashboard, served by notification-service, reads the metrics from analytics-service: its URL
 * for the page, and the page's origins for analytics-service's CORS (unless the env sets them).
 */
const dashboardEnv = (name, env) => {
  const [, notif, analytics] = programs.map((p) => p.port)
  if (name === "notification" && env.DASHBOARD_METRICS_URL === undefined) return { DASHBOARD_METRICS_URL: `http://127.0.0.1:${analytics}` }
  if (name === "analytics" && env.CORS_ORIGINS === undefined) return { CORS_ORIGINS: `http://127.0.0.1:${notif},http://localhost:${notif}` }
  return {}
}

const launch = (program, env) => {
  const prefix = paint(program.colour, `[${program.name}]`)
  // Its own process group: a terminal's Ctrl-C reaches only this script, which then sends SIGTERM once.
  const child = spawn(process.execPath, ["--import", "tsx", program.file], {
    cwd: root,
    env: { ...env, ...dashboardEnv(program.name, env), PORT: String(program.port) },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true
  })
  pipeLines(child.stdout, prefix, process.stdout)
  pipeLines(child.stderr, prefix, process.stderr)
  const entry = { program, child, code: undefined }
  entry.exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      entry.code = code ?? 128 + (constants.signals[signal] ?? 0)
      say(`${program.name} exited (${signal ? `signal ${signal}` : `code ${code}`})`)
      resolve(entry.code)
      if (!stopping) void stop(`${program.name} exited unexpectedly`)
    })
  })
  child.once("error", (error) => say(`${program.name} could not start: ${error.message}`))
  children.push(entry)
  return entry
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const waitReady = async (entry) => {
  const url = `http://127.0.0.1:${entry.program.port}/readyz`
  const deadline = Date.now() + readyTimeoutMs
  while (Date.now() < deadline) {
    if (entry.code !== undefined) throw new Error(`${entry.program.name} exited (code ${entry.code}) before it was ready`)
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(3000) })
      if (response.ok) return
    } catch {
      // not listening yet
    }
    await sleep(300)
  }
  throw new Error(`${entry.program.name} not ready at ${url} within ${readyTimeoutMs / 1000}s`)
}

const stop = async (reason) => {
  if (stopping) return
  stopping = true
  say(`${reason}: sending SIGTERM to ${children.filter((c) => c.code === undefined).map((c) => c.program.name).join(", ") || "nothing"}`)
  for (const entry of children) if (entry.code === undefined) entry.child.kill("SIGTERM")
  const all = Promise.all(children.map((c) => c.exited))
  const timedOut = await Promise.race([all.then(() => false), sleep(stopTimeoutMs).then(() => true)])
  if (timedOut) {
    for (const entry of children) {
      if (entry.code === undefined) {
        say(`${entry.program.name} did not exit within ${stopTimeoutMs / 1000}s: SIGKILL`)
        entry.child.kill("SIGKILL")
      }
    }
    await all
  }
  const failed = children.filter((c) => c.code !== 0)
  if (failed.length > 0) say(`non-zero exit: ${failed.map((c) => `${c.program.name} (${c.code})`).join(", ")}`)
  else say("all programs exited cleanly (infra keeps running: `npm run infra:down` stops it)")
  process.exit(failed.length > 0 || reason !== "stop requested" ? 1 : 0)
}

const onSignal = (signal) => {
  if (!stopping) return void stop("stop requested")
  say(`${signal} again: killing what is left`)
  for (const entry of children) if (entry.code === undefined) entry.child.kill("SIGKILL")
}
process.on("SIGINT", onSignal)
process.on("SIGTERM", onSignal)
process.on("exit", () => {
  for (const entry of children) if (entry.code === undefined) entry.child.kill("SIGKILL")
})

const printTryIt = (running) => {
  const [gw, notif, analytics] = programs.map((p) => p.port)
  const lines = [
    "",
    "Try it (in another terminal):",
    "  T=$(npx product-events token s1)             # seller s1's token",
    "  S=$(npx product-events token ops --service)  # a service token (any seller's events)",
    "",
    `  # s1's dashboard (notifications from notification-service, metrics from analytics-service): open`,
    `  echo "http://127.0.0.1:${notif}/dashboard#token=$T"`,
    "",
    "  # s1's live notifications (SSE), from notification-service",
    `  curl -N -H "Authorization: Bearer $T" localhost:${notif}/sellers/s1/notifications/stream`,
    "",
    "  # publish an event for s1 through the gateway",
    "  sed 's/seller_42/s1/g' contracts/examples/ProductCreated.json |",
    `    curl -s -X POST localhost:${gw}/events -H "Authorization: Bearer $S" -H 'content-type: application/json' --data-binary @-`,
    "",
    `  curl -H "Authorization: Bearer $T" 'localhost:${notif}/sellers/s1/notifications?limit=20'`
  ]
  if (running.includes("analytics")) {
    lines.push(`  curl -H "Authorization: Bearer $T" localhost:${analytics}/sellers/s1/metrics`)
  }
  lines.push(`  curl localhost:${gw}/metrics   # Prometheus text; also :${notif}/metrics${running.includes("analytics") ? ` and :${analytics}/metrics` : ""}`, "")
  lines.push("Ctrl-C stops the programs (gracefully); the servers keep running.", "")
  console.log(lines.join("\n"))
}

const main = async () => {
  let infraEnv
  try {
    infraEnv = await infraUp()
  } catch (error) {
    say(error.message)
    process.exit(1)
  }
  const env = { ...process.env, ...infraEnv, INFRA: "live" }
  const present = programs.filter((p) => existsSync(join(root, p.file)))
  for (const p of programs) if (!present.includes(p)) say(`${p.file} does not exist yet: ${p.name} not started`)
  const entries = present.map((p) => launch(p, env))
  say(`started ${entries.map((e) => `${e.program.name} (pid ${e.child.pid}, :${e.program.port})`).join(", ")}`)
  try {
    await Promise.all(entries.map(waitReady))
  } catch (error) {
    return stop(error.message)
  }
  if (stopping) return
  say(`ready: ${entries.map((e) => `${e.program.name} http://127.0.0.1:${e.program.port}`).join(", ")}`)
  printTryIt(present.map((p) => p.name))
}

void main()
