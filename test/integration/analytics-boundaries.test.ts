import { randomBytes } from "node:crypto"
import { Effect } from "effect"
import kafkajs from "kafkajs"
import { afterAll, describe, expect, it } from "vitest"
import { analyticsService, productEventsTopic } from "../../src/domain/Consumers.js"
import * as MetricsStoreDynamo from "../../src/layers/MetricsStoreDynamo.js"
import { MetricsStore } from "../../src/services/MetricsStore.js"
import { auditArchive, readArchive } from "../support/archiveAudit.js"
import { encode } from "../support/events.js"
import { makeLoad, sameJson } from "../support/groundTruth.js"
import { startPrivateKafka, type PrivateKafka } from "../support/privateKafka.js"
import { bearer, eventually, freePort, kafkaAdmin, killAll, lastLogs, type Program, startProgram, waitReady } from "../support/processes.js"
import { liveEnv, requireServers } from "../support/servers.js"

/**
 * analytics-service as a process, SIGKILLed at a boundary of its paths, the events visible in GET
 * /sellers/{id}/metrics, the archive not uploaded yet, nothing committed: after the hot apply; or with
 * the events only in the sellers' pending records, no batch applied. The restarted process re-reads
 * everything: the metrics never show more than the events and end as their fold (nothing counted
 * twice), and the archive ends with every event exactly once. Each case has a broker of its own; the
 * table and the bucket are its own on the shared DynamoDB and S3 servers.
 */

await requireServers(["dynamodb", "s3"])

const run = randomBytes(4).toString("hex")
const programs: Array<Program> = []
const brokers: Array<PrivateKafka> = []
const admins: Array<Awaited<ReturnType<typeof kafkaAdmin>>> = []

afterAll(async () => {
  await killAll(programs)
  for (const admin of admins) await admin.disconnect()
  for (const kafka of brokers) await kafka.close()
})

const metricsMatch = async (program: Program, load: ReturnType<typeof makeLoad>, sellers: ReadonlyArray<string>) => {
  for (const seller of sellers) {
    const response = await fetch(`${program.baseUrl}/sellers/${seller}/metrics`, { headers: await bearer({ sellerId: seller }) })
    if (!response.ok || !sameJson(await response.json(), load.expectedMetrics(seller))) return undefined
  }
  return true
}

/** What the table holds for the sellers: metric items that a batch was applied to (they carry a watermark), and pending records. */
const storeState = (tableName: string, sellers: ReadonlyArray<string>) => {
  const env = liveEnv()
  const aws = { region: env.AWS_REGION, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } }
  return Effect.runPromise(
    Effect.gen(function*() {
      const store = yield* MetricsStore
      let applied = 0
      let pending = 0
      for (const seller of sellers) {
        applied += (yield* store.query(seller, "")).filter((item) => Object.keys(item.watermarks).length > 0).length
        pending += (yield* store.totalsAndPending(seller)).pending.length
      }
      return { applied, pending }
    }).pipe(Effect.provide(MetricsStoreDynamo.layer({ ...aws, endpoint: env.DYNAMODB_ENDPOINT, tableName })))
  )
}

type StoreState = Awaited<ReturnType<typeof storeState>>

type Counts = { readonly created: number; readonly updated: number; readonly deleted: number }

const cases = [
  {
    name: "SIGKILL after the hot apply, before the upload",
    // The archive holds its files for ever (no roll-over within the test): only the hot path completes.
    // No pending record is written either: the metrics match once the batches are applied, not before.
    first: { ARCHIVE_IDLE: "1 hour", ARCHIVE_MAX_AGE: "1 hour", ARCHIVE_FIRST_AGE: "1 hour", HOT_FRESH_AFTER: "1 hour" },
    atKill: (state: StoreState) => {
      expect(state.pending, "no pending record").toBe(0)
      expect(state.applied, "items applied").toBeGreaterThan(0)
    }
  },
  {
    name: "SIGKILL with the events in pending records only, no batch applied",
    // Nor do the hot batches roll: the events are visible through the sellers' pending records alone.
    first: { ARCHIVE_IDLE: "1 hour", ARCHIVE_MAX_AGE: "1 hour", ARCHIVE_FIRST_AGE: "1 hour", HOT_MAX_WAIT: "1 hour", HOT_FRESH_AFTER: "100 millis" },
    atKill: (state: StoreState) => expect(state, "no item applied, pending records written").toMatchObject({ applied: 0, pending: 6 })
  }
] as const

describe("analytics-service killed at a boundary of its paths", () => {
  it.each(cases)("$name: the restart counts nothing twice and archives everything once", async ({ atKill, first: settings, name }) => {
    const label = `${run}x${cases.findIndex((c) => c.name === name)}`
    const kafka = await startPrivateKafka()
    brokers.push(kafka)
    const admin = await kafkaAdmin([kafka.broker])
    admins.push(admin)
    const sellers = Array.from({ length: 6 }, (_, i) => `bnd_${label}_${i}`)
    const bucket = `boundary-${label}`
    const table = `boundary-metrics-${label}`
    const launch = async (which: string, extra: Record<string, string>) => {
      const env = { ...process.env, ...liveEnv(), KAFKA_BROKERS: kafka.broker, METRICS_TABLE: table, S3_BUCKET: bucket, ...extra }
      const program = startProgram("analytics", await freePort(), `boundary-${label}-${which}`, env)
      programs.push(program)
      return program
    }

    const first = await launch("first", settings)
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

    await eventually("the hot metrics equal the fold of the events", () => metricsMatch(first, load, sellers), 60_000, () => lastLogs(first, 20))
    expect(await readArchive(bucket).catch(() => []), "nothing archived yet").toEqual([])
    const committed = (await admin.offsets(analyticsService.group, productEventsTopic)).filter((o) => o.committed > 0)
    expect(committed, "nothing committed: the archive does not have the events").toEqual([])
    atKill(await storeState(table, sellers))
    first.child.kill("SIGKILL")
    await first.exited

    const second = await launch("second", { ARCHIVE_IDLE: "300 millis", ARCHIVE_TICK: "100 millis" })
    await waitReady(second, 90_000)
    await eventually(
      "the restarted service commits everything, its metrics never more than the events",
      async () => {
        for (const seller of sellers) {
          const response = await fetch(`${second.baseUrl}/sellers/${seller}/metrics`, { headers: await bearer({ sellerId: seller }) })
          if (!response.ok) continue
          const { counts } = (await response.json()) as { counts: Counts }
          const expected = (load.expectedMetrics(seller) as { counts: Counts }).counts
          for (const name of ["created", "updated", "deleted"] as const) {
            expect(counts[name], `${seller} ${name}: never counted twice`).toBeLessThanOrEqual(expected[name])
          }
        }
        const offsets = await admin.offsets(analyticsService.group, productEventsTopic)
        return offsets.every((o) => o.high === 0 || o.committed === o.high) ? true : undefined
      },
      90_000,
      () => lastLogs(second, 20)
    )
    await eventually("the metrics are still the fold of the events", () => metricsMatch(second, load, sellers), 30_000, () => lastLogs(second, 20))
    const audit = await auditArchive(bucket, [...load.accepted.values()].flat())
    expect(audit).toMatchObject({ missing: 0, duplicated: 0, unexpected: 0 })
    expect(audit.objects).toBeGreaterThan(0)
  }, 400_000)
})
