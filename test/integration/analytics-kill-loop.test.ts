import { randomBytes } from "node:crypto"
import kafkajs from "kafkajs"
import { describe, expect, it } from "vitest"
import { analyticsService, productEventsTopic } from "../../src/domain/Consumers.js"
import type { ProductEvent } from "../../src/domain/ProductEvent.js"
import { auditArchive } from "../support/archiveAudit.js"
import { kafkaMessage } from "../support/events.js"
import { makeLoad, sameJson } from "../support/groundTruth.js"
import { usePrivateStack } from "../support/privateStack.js"
import { bearer, eventually, lastLogs, sleep, waitReady } from "../support/processes.js"
import { liveEnv, requireServers } from "../support/servers.js"

/**
 * analytics-service as a process under a steady load, SIGKILLed 15 s after it is ready and restarted at once: its
 * group's committed offsets keep moving forward, never two rounds in a row without a commit (a restart does
 * not re-read the same backlog for ever), and once the load stops it catches up with metrics that are exactly the fold of the
 * events. A broker of the test's own keeps the topic and group to this test; the table and the bucket
 * are its own on the shared DynamoDB and S3 servers.
 */

await requireServers(["dynamodb", "s3"])

const run = randomBytes(4).toString("hex")
const sellers = Array.from({ length: 24 }, (_, i) => `kill_${run}_${i}`)
const rounds = 4
const killEveryMs = 15_000
/** Events a second, produced in batches every 100 ms. */
const rate = 50

const stack = usePrivateStack({
  prefix: `kill-${run}`,
  env: () => ({ ...liveEnv(), METRICS_TABLE: `kill-loop-metrics-${run}`, S3_BUCKET: `kill-loop-${run}` })
})
const launch = (label: string) => stack.launch("analytics", label)

/** Per partition: how far the group's committed offset is behind the end of the log. */
const lagOf = async () => {
  const offsets = await stack.admin.offsets(analyticsService.group, productEventsTopic)
  return offsets.reduce((sum, o) => sum + o.high - (o.committed >= 0 ? o.committed : o.low), 0)
}
const committedOf = async () =>
  (await stack.admin.offsets(analyticsService.group, productEventsTopic)).reduce((sum, o) => sum + Math.max(0, o.committed), 0)

describe("analytics-service under a kill loop", () => {
  it("keeps committing through a 15 s SIGKILL loop, then catches up with exact totals", async () => {
    const load = makeLoad(sellers, 12)
    let current = await launch("0")
    await waitReady(current, 90_000)

    const producer = new kafkajs.Kafka({ brokers: [stack.kafka.broker], logLevel: kafkajs.logLevel.NOTHING }).producer({ idempotent: true })
    await producer.connect()
    let producing = true
    let produced = 0
    const send = async (events: ReadonlyArray<ProductEvent>) => {
      await producer.send({
        topic: productEventsTopic,
        acks: -1,
        messages: events.map(kafkaMessage)
      })
      load.accept(events)
      produced += events.length
    }
    const steady = (async () => {
      while (producing) {
        await send(load.batch(rate / 10))
        await sleep(100)
      }
    })()

    // When, in each round, the committed offsets moved: for the log, to see where a round's time goes.
    let roundStart = Date.now()
    let lastCommitted = 0
    const moves: Array<string> = []
    let sampling = true
    let joined = false
    const sampler = (async () => {
      while (sampling) {
        const now = await committedOf().catch(() => lastCommitted)
        if (now !== lastCommitted) moves.push(`+${((Date.now() - roundStart) / 1000).toFixed(1)}s:${now}`)
        lastCommitted = now
        if (!joined && (await stack.admin.stableMembers(analyticsService.group).catch(() => undefined))?.includes(current.clientId)) {
          joined = true
          moves.push(`+${((Date.now() - roundStart) / 1000).toFixed(1)}s:joined`)
        }
        await sleep(500)
      }
    })()

    try {
      roundStart = Date.now()
      const committed: Array<number> = [await committedOf()]
      const lags: Array<number> = []
      for (let round = 1; round <= rounds; round++) {
        await sleep(killEveryMs)
        committed.push(await committedOf())
        moves.push("| kill |")
        lags.push(await lagOf())
        current.child.kill("SIGKILL")
        await current.exited
        current = await launch(String(round))
        joined = false
        // A round is 15 s of the process's life: its start-up (3-30 s on a shared 2-core machine) is not counted.
        await waitReady(current, 90_000)
        roundStart = Date.now()
      }
      sampling = false
      await sampler
      console.log(`kill loop: produced ${produced} events; committed after each round ${committed.join(", ")}; lag at each kill ${lags.join(", ")}`)
      console.log(`kill loop: commits (time since the round's process started: committed) ${moves.join(" ")}`)
      // Progress through the loop: no two rounds in a row end where the round before them began. (One round
      // may end before its process even joined the group: a join after a SIGKILL waits out the dead member's
      // session, which on a loaded 2-core machine alone can take most of a round.)
      for (let round = 2; round <= rounds; round++) {
        expect(committed[round], `rounds ${round - 1}-${round}: committed offsets moved (${committed.join(", ")})`).toBeGreaterThan(committed[round - 2]!)
      }
      expect(committed[rounds], `the loop as a whole moved the committed offsets (${committed.join(", ")})`).toBeGreaterThan(committed[1]!)
      // The lag does not grow round after round: the last kill finds it below the highest earlier one, or
      // within one round of load (the load goes on while a process starts, which is not counted in a round).
      const peak = Math.max(...lags.slice(0, -1))
      expect(lags[lags.length - 1]!, `lag at each kill: ${lags.join(", ")}`).toBeLessThanOrEqual(Math.max(peak - 1, (rate * killEveryMs) / 1000))
    } finally {
      sampling = false
      producing = false
      await steady
      await producer.disconnect()
    }

    // The load stopped: the last process catches up, and serves exactly the fold of the events.
    await waitReady(current, 90_000)
    await eventually("analytics-service commits everything", async () => ((await lagOf()) === 0 ? true : undefined), 90_000, () =>
      lastLogs(current, 20))
    let mismatches: Array<string> = []
    await eventually(
      "every seller's metrics equal the fold of its events",
      async () => {
        mismatches = []
        for (const seller of sellers) {
          const response = await fetch(`${current.baseUrl}/sellers/${seller}/metrics`, { headers: await bearer({ sellerId: seller }) })
          const body = response.ok ? await response.json() : { status: response.status }
          if (!sameJson(body, load.expectedMetrics(seller))) mismatches.push(seller)
        }
        return mismatches.length === 0 ? true : undefined
      },
      30_000,
      () => `mismatching sellers: ${mismatches.join(", ")}`
    )
    // Every lifecycle event in exactly one archive object.
    const audit = await auditArchive(`kill-loop-${run}`, [...load.accepted.values()].flat())
    console.log(`kill loop: archive ${JSON.stringify(audit)}`)
    expect(audit).toMatchObject({ missing: 0, duplicated: 0, unexpected: 0 })
    expect(audit.objects).toBeGreaterThan(0)
  }, 360_000)
})
