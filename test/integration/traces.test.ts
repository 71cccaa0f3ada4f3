import { randomBytes } from "node:crypto"
import { createServer, type Server } from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { created, encode } from "../support/events.js"
import { bearer, eventually, freePort, kafkaAdmin, killAll, lastLogs, type Program, type ProgramName, startProgram, waitReady } from "../support/processes.js"
import { liveEnv, requireServers } from "../support/servers.js"
import { openSse, type SseClient } from "../support/sse.js"

/**
 * Traces across Kafka: the gateway, notification-service and analytics-service as processes exporting
 * spans over OTLP/HTTP (JSON) to a receiver of this test's own, and an SSE client of the seller. One
 * POSTed event's trace runs from the gateway's request through its Kafka produce into both consumers
 * (their spans children of the producer's by the record's `traceparent` header): notification-service's
 * store write, Redis publish and SSE push (by the `traceparent` the published notification carries), and
 * analytics-service's hot batch, in the trace or linked to it (OpenTelemetry's batch conventions).
 */

interface Span {
  readonly service: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly links?: ReadonlyArray<{ readonly traceId: string; readonly spanId: string }>
  readonly attributes?: ReadonlyArray<{ readonly key: string; readonly value: { readonly stringValue?: string; readonly intValue?: string | number } }>
}

const attribute = (span: Span, key: string) => {
  const value = span.attributes?.find((a) => a.key === key)?.value
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue))
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
let stream: SseClient | undefined

describe("traces across Kafka", () => {
  beforeAll(async () => {
    await requireServers()
    otlp = await receiver()
    admin = await kafkaAdmin(liveEnv().KAFKA_BROKERS.split(","))
    for (const name of ["gateway", "notification", "analytics"] as const) {
      programs.set(name, startProgram(name, await freePort(), `trace-${run}-${name}`, {
        ...process.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_BSP_SCHEDULE_DELAY: "200"
      }))
    }
    await Promise.all([...programs.values()].map((p) => waitReady(p, 60_000)))
    for (const [name, group] of [["notification", "notification-service"], ["analytics", "analytics-service"]] as const) {
      const program = programs.get(name)!
      await eventually(
        `${group} joins its group`,
        async () => ((await admin.stableMembers(group))?.includes(program.clientId) ? true : undefined),
        90_000,
        () => lastLogs(program, 40)
      )
    }
  }, 240_000)

  afterAll(async () => {
    stream?.close()
    await killAll(programs.values())
    await admin?.disconnect()
    await otlp?.close()
  })

  it("one trace from POST /events to the store write, the Redis publish, the SSE push and the analytics update", async () => {
    const notification = programs.get("notification")!
    stream = await openSse(`${notification.baseUrl}/sellers/${seller}/notifications/stream`, await bearer({ sellerId: seller }))
    expect(stream.status).toBe(200)
    const event = created(seller, "lamp")
    const response = await fetch(`${programs.get("gateway")!.baseUrl}/events`, {
      method: "POST",
      headers: { ...(await bearer({ role: "service" })), "content-type": "application/json" },
      body: JSON.stringify(encode(event))
    })
    expect(response.status).toBe(202)
    const [pushed] = await stream.waitFor(1, 30_000)
    expect(pushed!.id).toBe(event.eventId)
    // The stream's data is the notification as before: the trace context stays on the pub/sub message.
    expect(Object.keys(JSON.parse(pushed!.data))).not.toContain("traceparent")

    // The produce span is the one whose record the consumers read: both consumer spans are its children.
    const consumerOf = (service: string) =>
      otlp.spans.find((s) => s.service === service && s.name === `${service} process` &&
        otlp.spans.some((p) => p.service === "ingest-gateway" && p.name === "EventLog.produce" && p.spanId === s.parentSpanId &&
          otlp.spans.some((r) => r.traceId === p.traceId && r.service === "ingest-gateway" && r.name.startsWith("http.server POST"))))
    const trace = await eventually("the event's trace reaches both consumers, the SSE push and the analytics batch", async () => {
      const notified = consumerOf("notification-service")
      if (notified === undefined) return undefined
      const traceId = notified.traceId
      const analyzed = otlp.spans.find((s) => s.traceId === traceId && s.service === "analytics-service" && s.name === "analytics-service process")
      const inTrace = otlp.spans.filter((s) => s.traceId === traceId)
      const has = (service: string, name: string) => inTrace.some((s) => s.service === service && s.name === name)
      const batch = otlp.spans.find((s) =>
        s.service === "analytics-service" && s.name === "HotPath.batch" && (s.traceId === traceId || s.links?.some((l) => l.traceId === traceId))
      )
      const done = analyzed !== undefined && batch !== undefined &&
        ["NotificationStore.putMany", "PubSub.publishMany", "NotificationHub.push"].every((name) => has("notification-service", name))
      return done ? { traceId, notified, analyzed, batch, inTrace } : undefined
    }, 30_000, () => JSON.stringify(otlp.spans.filter((s) => s.service !== "ingest-gateway" || s.name === "EventLog.produce").map((s) => [s.service, s.name, s.traceId.slice(0, 6)])).slice(0, 4000))

    expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/)
    const byId = new Map(trace.inTrace.map((s) => [s.spanId, s]))
    const produce = byId.get(trace.notified.parentSpanId!)!
    expect(produce).toMatchObject({ service: "ingest-gateway", name: "EventLog.produce" })
    expect(trace.analyzed.parentSpanId).toBe(produce.spanId)
    // The produce runs inside the request's server span: the trace starts at POST /events.
    expect(trace.inTrace.some((s) => s.service === "ingest-gateway" && s.name.startsWith("http.server POST"))).toBe(true)

    // The push is a child of the span that published the notification, in notification-service.
    const push = trace.inTrace.find((s) => s.name === "NotificationHub.push" && attribute(s, "seller") === seller)!
    expect(push.service).toBe("notification-service")
    expect(attribute(push, "subscribers")).toBe(1)
    expect(byId.get(push.parentSpanId!)?.service).toBe("notification-service")

    // The hot batch stands in the trace (a batch of this event's trace only) or links to it (a mixed batch).
    if (trace.batch.traceId === trace.traceId) expect(byId.has(trace.batch.parentSpanId!)).toBe(true)
    else expect(trace.batch.links!.some((l) => l.traceId === trace.traceId)).toBe(true)
  }, 90_000)
})
