/**
 * The bare ingest server bench:ingest compares the gateway with: node:http and one kafkajs producer
 * configured as the gateway's (idempotent, acks all, one request in flight), doing the same JSON
 * parse and produce of a batch (key sellerId, headers eventType and eventId), nothing else.
 *
 *   BENCH_TOPIC=t PORT=3102 tsx bench/support/ingest-bare.ts
 */
import { createServer } from "node:http"
import { Kafka, logLevel, Partitioners } from "kafkajs"

const topic = process.env["BENCH_TOPIC"]!
const port = Number(process.env["PORT"] ?? 3102)
const brokers = (process.env["KAFKA_BROKERS"] ?? "127.0.0.1:9092").split(",")

const kafka = new Kafka({ clientId: "bench-ingest-bare", brokers, logLevel: logLevel.WARN })
const producer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
  allowAutoTopicCreation: false
})
await producer.connect()
// Exits on the bench's SIGTERM as the gateway does, so that a CPU profile (BENCH_PROFILE_DIR) is written.
process.once("SIGTERM", () => void producer.disconnect().finally(() => process.exit(0)))

type Event = { eventId: string; eventType: string; data: { sellerId: string } }

createServer((request, response) => {
  const parts: Array<Buffer> = []
  request.on("data", (part: Buffer) => parts.push(part))
  request.on("end", () => {
    let events: Array<Event>
    try {
      const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as Event | Array<Event>
      events = Array.isArray(body) ? body : [body]
    } catch {
      response.writeHead(400).end()
      return
    }
    producer.send({
      topic,
      acks: -1,
      messages: events.map((event) => ({
        key: event.data.sellerId,
        value: JSON.stringify(event),
        headers: { eventType: event.eventType, eventId: event.eventId }
      }))
    }).then(
      () => {
        response.writeHead(202, { "content-type": "application/json" })
        response.end(JSON.stringify({ accepted: events.map((e) => e.eventId) }))
      },
      () => response.writeHead(503).end()
    )
  })
}).listen(port, "127.0.0.1", () => console.log(`listening on ${port}`))
