import { randomBytes } from "node:crypto"
import { createServer, type Server } from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { created, encode } from "../support/events.js"
import { bearer, eventually, freePort, kafkaAdmin, killAll, lastLogs, type Program, type ProgramName, startProgram, waitReady } from "../support/processes.js"
import { liveEnv, requireServers } from "../support/servers.js"

/**
 * Traces across Kafka: the gateway and notification-service as processes exporting spans over OTLP/HTTP
 * (JSON) to a receiver of this test's own. One POSTed event's trace runs from the gateway's request
 * through its Kafka produce into notification-service's processing and store writes: the consumer's span
 * is a child of the producer's, with the same trace id, by the record's `traceparent` header.
 */

interface Span {
  readonly service: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
}

/** An OTLP/HTTP receiver (JSON encoding) that keeps every span it is sent. */
const receiver = async () => {
  const spans: Array<Span> = []
  const server: Server = createServer((request, response) => {
    let body = ""
    request.on("data", (chunk: Buffer) => (body += chunk.toString()))
    request.on("end", () => {
      if (request.method === "POST" && request.url === "/v1/traces") {
        const data = JSON.parse(body) as {
          resourceSpans: Array<{
            resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }
            scopeSpans: Array<{ spans: Array<Omit<Span, "service">> }>
          }>
        }
        for (const { resource, scopeSpans } of data.resourceSpans) {
          const service = resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "?"
          for (const scope of scopeSpans) for (const span of scope.spans) spans.push({ ...span, service })
        }
      }
      response.writeHead(200, { "content-type": "application/json" }).end("{}")
    })
  })
  const port = await freePort()
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve))
  return { spans, url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

const run = randomBytes(4).toString("hex")
const seller = `trace_${run}`
const programs = new Map<ProgramName, Program>()
let admin: Awaited<ReturnType<typeof kafkaAdmin>>
let otlp: Awaited<ReturnType<typeof receiver>>

describe("traces across Kafka", () => {
  beforeAll(async () => {
    await requireServers()
    otlp = await receiver()
    admin = await kafkaAdmin(liveEnv().KAFKA_BROKERS.split(","))
    for (const name of ["gateway", "notification"] as const) {
      programs.set(name, startProgram(name, await freePort(), `trace-${run}-${name}`, {
        ...process.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_BSP_SCHEDULE_DELAY: "200"
      }))
    }
    await Promise.all([...programs.values()].map((p) => waitReady(p, 60_000)))
    const notification = programs.get("notification")!
    await eventually(
      "notification-service joins its group",
      async () => ((await admin.stableMembers("notification-service"))?.includes(notification.clientId) ? true : undefined),
      90_000,
      () => lastLogs(notification, 40)
    )
  }, 240_000)

  afterAll(async () => {
    await killAll(programs.values())
    await admin?.disconnect()
    await otlp?.close()
  })

  it("the consumer's span is a child of the gateway's produce span, in the trace of the POST, down to the store write and the Redis publish", async () => {
    const event = created(seller, "lamp")
    const response = await fetch(`${programs.get("gateway")!.baseUrl}/events`, {
      method: "POST",
      headers: { ...(await bearer({ role: "service" })), "content-type": "application/json" },
      body: JSON.stringify(encode(event))
    })
    expect(response.status).toBe(202)

    const trace = await eventually("the event's trace reaches notification-service's store write and Redis publish", async () => {
      const consumer = otlp.spans.find((s) => s.service === "notification-service" && s.name === "notification-service process" &&
        otlp.spans.some((p) => p.service === "ingest-gateway" && p.spanId === s.parentSpanId))
      if (consumer === undefined) return undefined
      const inTrace = otlp.spans.filter((s) => s.traceId === consumer.traceId)
      const wrote = (name: string) => inTrace.some((s) => s.service === "notification-service" && s.name === name)
      return wrote("NotificationStore.putMany") && wrote("PubSub.publishMany") ? { consumer, inTrace } : undefined
    }, 30_000)

    const producer = trace.inTrace.find((s) => s.spanId === trace.consumer.parentSpanId)!
    expect(producer).toMatchObject({ service: "ingest-gateway", name: "EventLog.produce", traceId: trace.consumer.traceId })
    // The produce runs inside the request's server span: the trace starts at POST /events.
    const server = trace.inTrace.find((s) => s.service === "ingest-gateway" && s.name.startsWith("http.server POST"))
    expect(server).toBeDefined()
    expect(server!.traceId).toBe(trace.consumer.traceId)
    expect(trace.consumer.traceId).toMatch(/^[0-9a-f]{32}$/)
  }, 60_000)
})
