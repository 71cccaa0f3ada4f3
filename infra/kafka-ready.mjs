// Exits 0 once the broker answers a metadata request, 1 after the deadline.
// Usage: node infra/kafka-ready.mjs <broker> <timeoutSeconds>
import { Kafka, logLevel } from "kafkajs"

const [broker = "127.0.0.1:9092", timeoutSeconds = "60"] = process.argv.slice(2)
const deadline = Date.now() + Number(timeoutSeconds) * 1000
const kafka = new Kafka({ clientId: "infra-ready", brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 0 } })
let lastError = "no attempt"
while (Date.now() < deadline) {
  const admin = kafka.admin()
  try {
    await admin.connect()
    await admin.listTopics()
    await admin.disconnect()
    process.exit(0)
  } catch (error) {
    lastError = error instanceof Error ? error.message : String(error)
    await admin.disconnect().catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}
console.error(`Kafka at ${broker} did not answer a metadata request within ${timeoutSeconds}s: ${lastError}`)
process.exit(1)
