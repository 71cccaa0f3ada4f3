import { randomBytes } from "node:crypto"
import kafkajs from "kafkajs"
import { describe, expect, it } from "vitest"
import { productEventsTopic } from "../../src/domain/Consumers.js"
import { partitionFor } from "../../src/layers/kafka/Partitioner.js"
import { created, kafkaMessage } from "../support/events.js"
import { usePrivateStack } from "../support/privateStack.js"
import { counterSum, eventually, lastLogs, waitReady } from "../support/processes.js"
import { requireServers } from "../support/servers.js"

/**
 * Two notification-service instances in one group, on a broker of this test's own: after one is
 * SIGKILLed, the survivor consumes events of every partition, the dead one's included, within 10 s
 * (the session timeout, 6 s by default, plus a rebalance).
 */

await requireServers(["redis", "dynamodb"])

const run = randomBytes(4).toString("hex")
const partitions = 12
const stack = usePrivateStack({ prefix: `failover-${run}` })
const launch = (label: string) => stack.launch("notification", label)

/** One seller per partition of product-events. */
const sellers = (() => {
  const byPartition = new Map<number, string>()
  for (let i = 0; byPartition.size < partitions; i++) {
    const seller = `failover_${run}_${i}`
    const partition = partitionFor(seller, partitions)
    if (!byPartition.has(partition)) byPartition.set(partition, seller)
  }
  return [...byPartition.values()]
})()

describe("failover", () => {
  it("after SIGKILL of one of two members, the survivor consumes the dead one's partitions within 10 s", async () => {
    const victim = await launch("a")
    await waitReady(victim, 90_000)
    const survivor = await launch("b")
    await waitReady(survivor, 90_000)
    await eventually("both instances are members of the group", async () => {
      const members = await stack.admin.stableMembers("notification-service")
      return members?.includes(victim.clientId) && members.includes(survivor.clientId) && members.length === 2 ? true : undefined
    }, 90_000, () => `${lastLogs(victim, 10)}\n${lastLogs(survivor, 10)}`)

    const producer = new kafkajs.Kafka({ brokers: [stack.kafka.broker], logLevel: kafkajs.logLevel.NOTHING }).producer()
    await producer.connect()
    try {
      const before = await counterSum(survivor, "events_consumed_total")
      victim.child.kill("SIGKILL")
      const killed = Date.now()
      await victim.exited
      // One event per partition, written at the kill: half of them on partitions the victim held.
      const events = sellers.map((seller, i) => created(seller, `p${i}`))
      await producer.send({
        topic: productEventsTopic,
        acks: -1,
        messages: events.map(kafkaMessage)
      })
      await eventually(
        "the survivor consumes an event of every partition",
        async () => ((await counterSum(survivor, "events_consumed_total")) - before >= partitions ? true : undefined),
        30_000,
        () => lastLogs(survivor)
      )
      const tookOver = Date.now() - killed
      console.log(`failover: the survivor consumed every partition's event ${tookOver} ms after the SIGKILL`)
      expect(tookOver).toBeLessThanOrEqual(10_000)
      expect(await stack.admin.stableMembers("notification-service")).toEqual([survivor.clientId])
    } finally {
      await producer.disconnect()
    }
  }, 240_000)
})
