import { randomBytes } from "node:crypto"
import kafkajs from "kafkajs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { analyticsService, productEventsTopic } from "../../src/domain/Consumers.js"
import { auditArchive, readArchive } from "../support/archiveAudit.js"
import { encode } from "../support/events.js"
import { makeLoad, sameJson } from "../support/groundTruth.js"
import { startPrivateKafka, type PrivateKafka } from "../support/privateKafka.js"
import { bearer, eventually, freePort, kafkaAdmin, killAll, lastLogs, type Program, startProgram, waitReady } from "../support/processes.js"
import { liveEnv, requireServers } from "../support/servers.js"

/**
 * analytics-service as a process, SIGKILLed at the boundary between its two paths: the hot metrics
 * applied (visible in GET /sellers/{id}/metrics), the archive not uploaded yet, nothing committed. The
 * restarted process re-reads everything: the metrics stay the fold of the events (nothing counted
 * twice) and the archive ends with every event exactly once. A broker of the test's own; the table and
 * the bucket are its own on the shared DynamoDB and S3 servers.
 */

await requireServers(["dynamodb", "s3"])

const run = randomBytes(4).toString("hex")
const sellers = Array.from({ length: 6 }, (_, i) => `bnd_${run}_${i}`)
const bucket = `boundary-${run}`

let kafka: PrivateKafka
let admin: Awaited<ReturnType<typeof kafkaAdmin>>
const programs: Array<Program> = []

const launch = async (label: string, extra: Record<string, string>) => {
  const env = { ...process.env, ...liveEnv(), KAFKA_BROKERS: kafka.broker, METRICS_TABLE: `boundary-metrics-${run}`, S3_BUCKET: bucket, ...extra }
  const program = startProgram("analytics", await freePort(), `boundary-${run}-${label}`, env)
  programs.push(program)
  return program
}

beforeAll(async () => {
  kafka = await startPrivateKafka()
  admin = await kafkaAdmin([kafka.broker])
}, 120_000)

afterAll(async () => {
  await killAll(programs)
  await admin?.disconnect()
  await kafka?.close()
})

const metricsMatch = async (program: Program, load: ReturnType<typeof makeLoad>) => {
  for (const seller of sellers) {
    const response = await fetch(`${program.baseUrl}/sellers/${seller}/metrics`, { headers: await bearer({ sellerId: seller }) })
    if (!response.ok || !sameJson(await response.json(), load.expectedMetrics(seller))) return undefined
  }
  return true
}

describe("analytics-service killed between its hot and cold paths", () => {
  it("SIGKILL after the hot apply, before the upload: the restart counts nothing twice and archives everything once", async () => {
    // The archive holds its files for ever (no roll-over within the test): only the hot path completes.
    const first = await launch("first", { ARCHIVE_IDLE: "1 hour", ARCHIVE_MAX_AGE: "1 hour", ARCHIVE_FIRST_AGE: "1 hour" })
    await waitReady(first, 90_000)
    const load = makeLoad(sellers, 7)
    const producer = new kafkajs.Kafka({ brokers: [kafka.broker], logLevel: kafkajs.logLevel.NOTHING }).producer({ idempotent: true })
    await producer.connect()
    const events = load.batch(120)
    await producer.send({
      topic: productEventsTopic,
      acks: -1,
      messages: events.map((e) => ({ key: e.data.sellerId, value: JSON.stringify(encode(e)), headers: { eventType: e.eventType } }))
    })
    load.accept(events)
    await producer.disconnect()

    await eventually("the hot metrics equal the fold of the events", () => metricsMatch(first, load), 60_000, () => lastLogs(first, 20))
    expect(await readArchive(bucket).catch(() => []), "nothing archived yet").toEqual([])
    const committed = (await admin.offsets(analyticsService.group, productEventsTopic)).filter((o) => o.committed > 0)
    expect(committed, "nothing committed: the archive does not have the events").toEqual([])
    first.child.kill("SIGKILL")
    await first.exited

    const second = await launch("second", { ARCHIVE_IDLE: "300 millis", ARCHIVE_TICK: "100 millis" })
    await waitReady(second, 90_000)
    await eventually(
      "the restarted service commits everything",
      async () => {
        const offsets = await admin.offsets(analyticsService.group, productEventsTopic)
        return offsets.every((o) => o.high === 0 || o.committed === o.high) ? true : undefined
      },
      90_000,
      () => lastLogs(second, 20)
    )
    await eventually("the metrics are still the fold of the events", () => metricsMatch(second, load), 30_000, () => lastLogs(second, 20))
    const audit = await auditArchive(bucket, [...load.accepted.values()].flat())
    expect(audit).toMatchObject({ missing: 0, duplicated: 0, unexpected: 0 })
    expect(audit.objects).toBeGreaterThan(0)
  }, 300_000)
})
