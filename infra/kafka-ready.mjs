// Exits 0 once the broker answers a metadata request and its group coordinator serves every
// partition of __consumer_offsets (created and loaded on first use: until then a consumer's first
// JoinGroup fails with "The coordinator is loading"); 1 after the deadline.
// Usage: node infra/kafka-ready.mjs <broker> <timeoutSeconds> [offsetsTopicPartitions]
import { Kafka, logLevel } from "kafkajs"

const [broker = "127.0.0.1:9092", timeoutSeconds = "60", offsetsPartitions = "50"] = process.argv.slice(2)
const deadline = Date.now() + Number(timeoutSeconds) * 1000
const kafka = new Kafka({ clientId: "infra-ready", brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 0 } })

/** Java's String.hashCode, as Kafka maps a group to its __consumer_offsets partition. */
const javaHash = (s) => {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0
  return h
}
/** One group id per __consumer_offsets partition. */
const probeGroups = (count) => {
  const byPartition = new Map()
  for (let i = 0; byPartition.size < count; i++) {
    const group = `infra-ready-${i}`
    const partition = (javaHash(group) & 0x7fffffff) % count
    if (!byPartition.has(partition)) byPartition.set(partition, group)
  }
  return [...byPartition.values()]
}

const groups = probeGroups(Number(offsetsPartitions))
let stage = "metadata"
let lastError = "no attempt"
while (Date.now() < deadline) {
  const admin = kafka.admin()
  try {
    await admin.connect()
    stage = "metadata"
    await admin.listTopics()
    stage = `group coordinator (${groups.length} __consumer_offsets partitions)`
    await admin.describeGroups(groups)
    await admin.disconnect()
    process.exit(0)
  } catch (error) {
    lastError = error instanceof Error ? error.message : String(error)
    await admin.disconnect().catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}
console.error(`Kafka at ${broker}: ${stage} not ready within ${timeoutSeconds}s: ${lastError}`)
process.exit(1)
