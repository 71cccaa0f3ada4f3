import { randomBytes } from "node:crypto"
import { describe, expect, it } from "vitest"
import { analyticsService, notificationService, productEventsTopic } from "../../src/domain/Consumers.js"
import type { ProductEvent } from "../../src/domain/ProductEvent.js"
import { auditArchive } from "../support/archiveAudit.js"
import { encode } from "../support/events.js"
import { makeLoad, sameJson } from "../support/groundTruth.js"
import { usePrivateStack } from "../support/privateStack.js"
import { bearer, eventually, lastLogs, type Program, type ProgramName, sleep, waitReady } from "../support/processes.js"
import { resumingSse, type ResumingSse } from "../support/resumingSse.js"
import { liveEnv, requireServers } from "../support/servers.js"

/**
 * The fault suite (`npm run test:faults`): a ground-truth load through the gateway while, one after
 * the other, a notification instance (of two) is SIGKILLed, analytics-service is SIGKILLed, the broker
 * stops and starts, Redis is killed and restarted, and the other notification instance is SIGKILLed;
 * every seller has an SSE client that reconnects with `Last-Event-ID`. At the end it prints, and
 * requires to be 0: events lost, duplicated and out of order (per SSE client), sellers whose analytics
 * differ from the fold of what the gateway accepted, and archive faults (an accepted lifecycle event
 * in no object or in several, or an object line of no accepted event).
 *
 * Kafka and Redis are servers of its own (so they can be stopped); DynamoDB and S3 are the shared
 * ones, with tables and a bucket of this run's own.
 */

await requireServers(["dynamodb", "s3"])

const run = randomBytes(4).toString("hex")
const sellers = Array.from({ length: 12 }, (_, i) => `faults_${run}_${i}`)
/** Events per batch, a batch every 100 ms: 50 events/s. */
const batchSize = 5

const bucket = `faults-${run}`

const stack = usePrivateStack({
  prefix: `faults-${run}`,
  redis: true,
  env: () => ({
    ...liveEnv(),
    NOTIFICATIONS_TABLE: `faults-notifications-${run}`,
    NOTIFICATION_COUNTERS_TABLE: `faults-notification-counters-${run}`,
    METRICS_TABLE: `faults-metrics-${run}`,
    S3_BUCKET: bucket
  })
})
const { launch } = stack

const timeline: Array<string> = []
let startedAt = Date.now()
const note = (what: string) => {
  const line = `+${((Date.now() - startedAt) / 1000).toFixed(1)}s ${what}`
  timeline.push(line)
  console.log(`faults: ${line}`)
}

const lagOf = async (group: string) =>
  (await stack.admin.offsets(group, productEventsTopic)).reduce((sum, o) => sum + o.high - (o.committed >= 0 ? o.committed : o.low), 0)

/** Every notification id stored for the seller, oldest first (the list route pages newest first). */
const storedIds = async (baseUrl: string, seller: string) => {
  const ids: Array<string> = []
  for (let cursor: string | null = ""; cursor !== null;) {
    const response = await fetch(`${baseUrl}/sellers/${seller}/notifications?limit=200${cursor ? `&cursor=${cursor}` : ""}`, {
      headers: await bearer({ sellerId: seller })
    })
    if (!response.ok) throw new Error(`GET notifications answered ${response.status}`)
    const page = (await response.json()) as { items: Array<{ id: string }>; nextCursor: string | null }
    ids.push(...page.items.map((n) => n.id))
    cursor = page.nextCursor
  }
  return ids.reverse()
}

describe("fault suite", () => {
  it("loses, duplicates, reorders and miscounts nothing through kills, a broker outage and a Redis outage", async () => {
    const gateway = await launch("gateway", "gateway")
    const notification = [await launch("notification", "n0"), await launch("notification", "n1")]
    let analytics = await launch("analytics", "a0")
    await Promise.all([gateway, ...notification, analytics].map((p) => waitReady(p, 120_000)))
    await eventually("both notification instances are members of the group", async () => {
      const members = await stack.admin.stableMembers(notificationService.group)
      return members?.length === 2 ? true : undefined
    }, 120_000, () => notification.map((p) => lastLogs(p, 10)).join("\n"))
    startedAt = Date.now()
    note("all running")

    // SSE: one client per seller, on either live notification instance, resuming with Last-Event-ID.
    let next = 0
    const pickUrl = (seller: string) => () => {
      const alive = notification.filter((p) => p.exitCode() === undefined)
      const program = alive[next++ % Math.max(1, alive.length)] ?? notification[0]!
      return `${program.baseUrl}/sellers/${seller}/notifications/stream`
    }
    const clients = new Map<string, ResumingSse>(sellers.map((s) => [s, resumingSse(pickUrl(s), () => bearer({ sellerId: s }))]))
    // A first stream starts at the seller's latest notification: the load starts once every stream is open.
    await Promise.race([
      Promise.all([...clients.values()].map((c) => c.opened)),
      sleep(30_000).then(() => Promise.reject(new Error("the SSE streams did not all open within 30 s")))
    ])
    note("SSE streams open")

    // The load: each batch retried (same events) until the gateway accepts it, as a client must on 503.
    const load = makeLoad(sellers, 7)
    const serviceAuth = await bearer({ role: "service" })
    let producing = true
    const statuses = new Map<number | string, number>()
    const post = async (events: ReadonlyArray<ProductEvent>) => {
      for (;;) {
        let status: number | string
        try {
          const response = await fetch(`${gateway.baseUrl}/events`, {
            method: "POST",
            headers: { ...serviceAuth, "content-type": "application/json" },
            body: JSON.stringify(events.map(encode)),
            signal: AbortSignal.timeout(10_000)
          })
          status = response.status
          await response.arrayBuffer()
        } catch (error) {
          status = (error as Error).name
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
        if (status === 202) return load.accept(events)
        if (status === 400) throw new Error("the gateway rejected a ground-truth batch")
        await sleep(250)
      }
    }
    const steady = (async () => {
      while (producing) {
        await post(load.batch(batchSize))
        await sleep(100)
      }
    })()

    const restart = async (program: Program, name: ProgramName, label: string) => {
      program.child.kill("SIGKILL")
      await program.exited
      note(`SIGKILL ${label}`)
      const fresh = await launch(name, label)
      await waitReady(fresh, 120_000)
      note(`${label} ready again`)
      return fresh
    }

    const noted = (what: string, fault: () => Promise<void>) => async () => {
      await fault()
      note(what)
    }
    /** The faults in turn, each followed by that long under load (a restart notes itself). */
    const faults: ReadonlyArray<readonly [fault: () => Promise<unknown>, thenMs: number]> = [
      // A notification instance (of two) dies; the other takes over; it comes back later.
      [async () => (notification[0] = await restart(notification[0]!, "notification", "n0")), 5_000],
      [async () => (analytics = await restart(analytics, "analytics", "a0")), 5_000],
      [noted("broker stopped", stack.kafka.stop), 10_000],
      [noted("broker started", stack.kafka.start), 8_000],
      [noted("redis killed", stack.redis.kill), 5_000],
      [noted("redis started", stack.redis.start), 8_000],
      [async () => (notification[1] = await restart(notification[1]!, "notification", "n1")), 8_000]
    ]
    try {
      await sleep(8_000)
      for (const [fault, thenMs] of faults) {
        await fault()
        await sleep(thenMs)
      }
    } finally {
      producing = false
      await steady
      note(`load stopped: ${[...load.accepted.values()].flat().length} events accepted; gateway answers ${JSON.stringify(Object.fromEntries(statuses))}`)
    }

    // Drained: both groups have committed everything, every SSE client has as many ids as its seller's events.
    await eventually("both groups caught up", async () =>
      (await lagOf(notificationService.group)) === 0 && (await lagOf(analyticsService.group)) === 0 ? true : undefined,
      180_000, () => [analytics, ...notification].map((p) => lastLogs(p, 10)).join("\n"))
    await eventually("every SSE client got as many events as its seller has", async () =>
      sellers.every((s) => new Set(clients.get(s)!.ids).size >= load.accepted.get(s)!.length) ? true : undefined,
      60_000).catch(() => note("some SSE client still short of its seller's events"))
    // A marker per seller, then: once each client has it, nothing more of the load can arrive.
    const markers = load.batch(sellers.length)
    await post(markers)
    await eventually("every SSE client got its marker", async () =>
      markers.every((m) => clients.get(m.data.sellerId)!.ids.includes(m.eventId)) ? true : undefined, 60_000).catch(() =>
      note("some SSE client never got its marker"))
    note("drained")

    let duplicated = 0, outOfOrder = 0
    const missing: Array<{ readonly seller: string; readonly id: string; readonly at: number }> = []
    for (const seller of sellers) {
      const expected = load.accepted.get(seller)!.map((e) => e.eventId)
      const position = new Map(expected.map((id, i) => [id, i]))
      const received = clients.get(seller)!.ids
      const seen = new Set<string>()
      let last = -1
      for (const id of received) {
        if (seen.has(id)) duplicated++
        seen.add(id)
        const at = position.get(id) ?? -1
        if (at < last) outOfOrder++
        last = Math.max(last, at)
      }
      expected.forEach((id, at) => {
        if (!seen.has(id)) missing.push({ seller, id, at })
      })
    }
    const lost = missing.length
    // Where a lost event sits: its client's ids around it and reconnects, and whether the store has it.
    for (const { seller, id, at } of missing.slice(0, 5)) {
      const client = clients.get(seller)!
      const expected = load.accepted.get(seller)!.map((e) => e.eventId)
      const before = expected[at - 1], after = expected[at + 1]
      const live = notification.find((p) => p.exitCode() === undefined) ?? notification[0]!
      const stored = await storedIds(live.baseUrl, seller).catch((e: Error) => e)
      note([
        `lost ${id} of ${seller}: #${at} of ${expected.length}, client has ${client.ids.length} ids`,
        `  before it ${before} at client index ${before === undefined ? "-" : client.ids.indexOf(before)},`,
        `  after it ${after} at client index ${after === undefined ? "-" : client.ids.indexOf(after)},`,
        `  reconnects at client indexes ${JSON.stringify(client.reconnectedAt)},`,
        `  stored: ${
          stored instanceof Error
            ? `unknown, the list failed (${stored.message})`
            : stored.includes(id) ? `yes, #${stored.indexOf(id)} of ${stored.length}` : `no (${stored.length} stored)`
        }`
      ].join("\n"))
    }
    await eventually("analytics has folded every event", async () => {
      for (const seller of sellers) {
        const response = await fetch(`${analytics.baseUrl}/sellers/${seller}/metrics`, { headers: await bearer({ sellerId: seller }) })
        if (!response.ok || !sameJson(await response.json(), load.expectedMetrics(seller))) return undefined
      }
      return true
    }, 30_000).catch(() => undefined)
    // The hot metrics move within a second, the archive's last files once they idle: analytics-service
    // commits a record only once it is in both, so its caught-up group (markers included) means archived.
    await eventually("analytics-service committed the markers", async () =>
      (await lagOf(analyticsService.group)) === 0 ? true : undefined, 60_000).catch(() => note("analytics still has lag"))
    const analyticsLag = await lagOf(analyticsService.group)
    // Compared once everything is committed: each batch applied (the markers' too, which the served metrics
    // showed through pending records before), so the figures are those of the store.
    let mismatchingSellers = 0
    for (const seller of sellers) {
      const response = await fetch(`${analytics.baseUrl}/sellers/${seller}/metrics`, { headers: await bearer({ sellerId: seller }) })
      if (!response.ok || !sameJson(await response.json(), load.expectedMetrics(seller))) mismatchingSellers++
    }
    const archive = await auditArchive(bucket, [...load.accepted.values()].flat())
    const reconnects = [...clients.values()].reduce((n, c) => n + c.reconnects(), 0)
    for (const client of clients.values()) client.close()

    const table = {
      "events accepted": [...load.accepted.values()].flat().length,
      "SSE reconnects": reconnects,
      "archive objects": archive.objects,
      lost,
      duplicated,
      "out of order": outOfOrder,
      "mismatching sellers": mismatchingSellers,
      "analytics lag at the end": analyticsLag,
      "archive: missing": archive.missing,
      "archive: in several objects": archive.duplicated,
      "archive: unexpected lines": archive.unexpected
    }
    console.log(`faults: timeline\n  ${timeline.join("\n  ")}`)
    const width = Math.max(...Object.keys(table).map((k) => k.length))
    console.log(`faults: result\n${Object.entries(table).map(([k, v]) => `  ${k.padEnd(width)}  ${String(v).padStart(6)}`).join("\n")}`)
    expect({
      lost,
      duplicated,
      outOfOrder,
      mismatchingSellers,
      analyticsLag,
      archiveMissing: archive.missing,
      archiveDuplicated: archive.duplicated,
      archiveUnexpected: archive.unexpected
    }).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0, mismatchingSellers: 0, analyticsLag: 0, archiveMissing: 0, archiveDuplicated: 0, archiveUnexpected: 0 })
    expect(table["events accepted"]).toBeGreaterThan(1_000)
    expect(archive.objects).toBeGreaterThan(0)
  }, 900_000)
})
