import { randomBytes } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { productEventsTopic } from "../../src/domain/Consumers.js"
import type { ProductEvent } from "../../src/domain/ProductEvent.js"
import { created, deleted, encode, lowStock, product, updated } from "../support/events.js"
import {
  bearer,
  counterSum,
  eventually,
  freePort,
  kafkaAdmin,
  killAll,
  lastLogs,
  type Program,
  type ProgramName,
  programExists,
  startProgram,
  stopProgram,
  uncommitted,
  waitReady
} from "../support/processes.js"
import { liveEnv, requireServers } from "../support/servers.js"
import { openSse, type SseClient } from "../support/sse.js"

/**
 * The gateway, notification-service and analytics-service as real processes on the real servers:
 * events POSTed to the gateway reach a seller's SSE stream and the analytics metrics; SIGTERM ends each
 * with exit 0 and its group's offsets committed; a restarted notification-service consumes nothing again.
 * The topic and groups are the fixed production ones, so the sellers are unique per run and offsets are
 * judged against the end offsets once this run's events were appended.
 */

const run = randomBytes(4).toString("hex")
const [sellerA, sellerB, sellerC] = ["a", "b", "c"].map((s) => `proc_${run}_${s}`) as [string, string, string]
const withAnalytics = programExists("analytics")
const names: ReadonlyArray<ProgramName> = withAnalytics ? ["gateway", "notification", "analytics"] : ["gateway", "notification"]
const groupOf = { notification: "notification-service", analytics: "analytics-service" } as const
const brokers = liveEnv().KAFKA_BROKERS.split(",")

/** Seller A: every event type; B: three products; C: one created and deleted. Interleaved, as one batch. */
const batch = (): ReadonlyArray<ProductEvent> => {
  const t = Date.now()
  const lamp = product()
  const lampLow = { ...lamp, stock: 3 }
  const shelf = product({ name: "Oak shelf", category: "home/furniture", price: { amountMinor: 12900, currency: "EUR" }, stock: 7 })
  return [
    created(sellerA, "lamp", t, lamp),
    created(sellerB, "b1", t + 1),
    created(sellerA, "shelf", t + 2, shelf),
    created(sellerC, "c1", t + 3),
    updated(sellerA, "lamp", t + 4, lamp, lampLow),
    created(sellerB, "b2", t + 5),
    lowStock(sellerA, "lamp", t + 6, 3, 5),
    deleted(sellerC, "c1", t + 7),
    deleted(sellerA, "shelf", t + 8, shelf),
    created(sellerB, "b3", t + 9)
  ]
}

const programs = new Map<string, Program>()
const everyProgram: Array<Program> = []
let admin: Awaited<ReturnType<typeof kafkaAdmin>>
let events: ReadonlyArray<ProductEvent> = []
/** End offsets of product-events once this run's events were appended. */
let endsAfterPost: Map<number, { low: number; high: number }> = new Map()

const launch = async (name: ProgramName, label: string = name) => {
  const program = startProgram(name, await freePort(), `proc-${run}-${label}`)
  programs.set(name, program)
  everyProgram.push(program)
  return program
}
const get = (name: ProgramName) => programs.get(name)!

/** POSTs events to the gateway; returns the ids it accepted. */
const post = async (batch: ReadonlyArray<ProductEvent>) => {
  const response = await fetch(`${get("gateway").baseUrl}/events`, {
    method: "POST",
    headers: { ...(await bearer({ role: "service" })), "content-type": "application/json" },
    body: JSON.stringify(batch.map(encode))
  })
  expect(response.status, await response.clone().text()).toBe(202)
  return ((await response.json()) as { accepted: unknown }).accepted
}

const waitMember = (program: Program, group: string) =>
  eventually(
    `${program.name} (${program.clientId}) joins ${group}`,
    async () => ((await admin.stableMembers(group))?.includes(program.clientId) ? true : undefined),
    // Joining takes 10-25 s on a loaded 2-core machine; a crashed first join (the client restarts) or a
    // member left behind by a killed run (evicted after its session timeout) can add 30 s more.
    90_000,
    () => lastLogs(program, 40)
  )

/** The group has committed this run's events (and all before them) on every partition. */
const expectCommitted = async (group: string) => {
  const offsets = await admin.offsets(group, productEventsTopic)
  const behindEnd = uncommitted(offsets, new Map(offsets.map((o) => [o.partition, o])))
  const behindOurs = uncommitted(offsets, endsAfterPost)
  expect(behindOurs, `${group}: committed offsets short of this run's events`).toEqual([])
  // Short of the current end only where another producer appended after this run's events.
  for (const o of behindEnd) expect(o.high, `${group} p${o.partition}: committed < end`).toBeGreaterThan(endsAfterPost.get(o.partition)!.high)
}

describe("separate processes on the real servers", () => {
  beforeAll(async () => {
    await requireServers()
    admin = await kafkaAdmin(brokers)
    await Promise.all(names.map((name) => launch(name)))
    await Promise.all(names.map((name) => waitReady(get(name), 60_000)))
    await waitMember(get("notification"), groupOf.notification)
    if (withAnalytics) await waitMember(get("analytics"), groupOf.analytics)
  }, 240_000)

  afterAll(async () => {
    await killAll(everyProgram)
    await admin?.disconnect()
  })

  let stream: SseClient

  it("a seller's SSE stream gets exactly that seller's notifications, in order", async () => {
    stream = await openSse(`${get("notification").baseUrl}/sellers/${sellerA}/notifications/stream`, await bearer({ sellerId: sellerA }))
    expect(stream.status).toBe(200)
    events = batch()
    expect(await post(events)).toEqual(events.map((e) => e.eventId))
    endsAfterPost = await admin.ends(productEventsTopic)

    const ofA = events.filter((e) => e.data.sellerId === sellerA)
    await stream.waitFor(ofA.length, 30_000).catch((error) => {
      throw new Error(`${error}\n${lastLogs(get("notification"))}`)
    })
    // Once the batch is committed every notification of it was published; a marker for seller A
    // published after them then arrives after anything of the batch that A's stream could get.
    await eventually(
      "this run's events committed by notification-service",
      async () => (uncommitted(await admin.offsets(groupOf.notification, productEventsTopic), endsAfterPost).length === 0 ? true : undefined),
      30_000,
      () => lastLogs(get("notification"))
    )
    const marker = lowStock(sellerA, "marker", Date.now())
    await post([marker])
    const received = await stream.waitFor(ofA.length + 1, 30_000)
    expect(received.map((e) => [e.id, e.event])).toEqual([...ofA, marker].map((e) => [e.eventId, e.eventType]))
    expect(stream.events, "no notification beyond seller A's").toHaveLength(ofA.length + 1)
    expect(new Set(received.map((e) => JSON.parse(e.data).sellerId))).toEqual(new Set([sellerA]))
    stream.close()
    // The counter the restart check relies on does count this run's events.
    const consumed = await counterSum(get("notification"), "events_consumed_total", { group: groupOf.notification, outcome: "done" })
    expect(consumed).toBeGreaterThanOrEqual(ofA.length)

    // The other sellers' notifications are stored too (so the consumer is through the whole batch).
    for (const seller of [sellerB, sellerC]) {
      const expected = events.filter((e) => e.data.sellerId === seller).map((e) => e.eventId).reverse()
      await eventually(`${seller}'s notifications listed`, async () => {
        const list = await fetch(`${get("notification").baseUrl}/sellers/${seller}/notifications?limit=20`, { headers: await bearer({ sellerId: seller }) })
        const body = list.ok ? ((await list.json()) as { items?: Array<{ id: string }> }) : undefined
        const ids = (body?.items ?? []).map((n) => n.id)
        return JSON.stringify(ids) === JSON.stringify(expected) ? true : undefined
      }, 20_000)
    }
  }, 90_000)

  it.runIf(withAnalytics)("analytics-service serves the metrics the events imply", async () => {
    const metricsOf = async (seller: string) => {
      const response = await fetch(`${get("analytics").baseUrl}/sellers/${seller}/metrics`, { headers: await bearer({ sellerId: seller }) })
      return response.ok ? ((await response.json()) as Record<string, unknown>) : { status: response.status }
    }
    const expected = {
      [sellerA]: { activeProducts: 1, totalStockUnits: 3, inventoryValue: { EUR: String(4999 * 3) } },
      [sellerB]: { activeProducts: 3, totalStockUnits: 120, inventoryValue: { EUR: String(4999 * 120) } },
      [sellerC]: { activeProducts: 0, totalStockUnits: 0, inventoryValue: {} }
    }
    let last: unknown
    await eventually(
      "analytics metrics match the events",
      async () => {
        last = Object.fromEntries(await Promise.all(Object.keys(expected).map(async (s) => [s, await metricsOf(s)] as const)))
        const ok = Object.entries(expected).every(([s, want]) => {
          const got = (last as Record<string, Record<string, unknown>>)[s]!
          return Object.entries(want).every(([k, v]) => JSON.stringify(got[k]) === JSON.stringify(v))
        })
        return ok ? true : undefined
      },
      45_000,
      () => `last: ${JSON.stringify(last)}\n${lastLogs(get("analytics"), 15)}`
    )
    const a = (last as Record<string, { counts: Record<string, number> }>)[sellerA]!
    expect(a.counts).toMatchObject({ created: 2, updated: 1, deleted: 1 })
  }, 90_000)

  it("SIGTERM with work in flight: every process drains, commits and exits 0", async () => {
    // A last batch, SIGTERM as soon as notification-service has handled it: analytics-service then still
    // holds it in an open archive file (rolled only after ARCHIVE_IDLE, 5 s), so its shutdown must flush it.
    const sellerD = `proc_${run}_d`
    const t = Date.now()
    const last = [created(sellerD, "d1", t), created(sellerD, "d2", t + 1), deleted(sellerD, "d1", t + 2)]
    const sse = await openSse(`${get("notification").baseUrl}/sellers/${sellerD}/notifications/stream`, await bearer({ sellerId: sellerD }))
    await post(last)
    endsAfterPost = await admin.ends(productEventsTopic)
    await sse.waitFor(last.length, 20_000)
    sse.close()

    const stops = await Promise.allSettled(names.map((name) => stopProgram(get(name), 30_000)))
    const outcomes = stops.map((s, i) => `${names[i]}: ${s.status === "fulfilled" ? `exit ${s.value}` : String(s.reason)}`)
    expect(outcomes).toEqual(names.map((name) => `${name}: exit 0`))
    await expectCommitted(groupOf.notification)
    if (withAnalytics) await expectCommitted(groupOf.analytics)
  }, 90_000)

  it("a restarted notification-service consumes nothing twice", async () => {
    const before = await admin.offsets(groupOf.notification, productEventsTopic)
    const restarted = await launch("notification", "notification-restarted")
    await waitReady(restarted, 60_000)
    await waitMember(restarted, groupOf.notification)
    // A marker on every partition, appended after the restart. Once the group has committed past them,
    // the restarted service has finished every record before them: what a redelivery would have counted.
    const sellerE = `proc_${run}_e`
    const t = Date.now()
    const markers = before.map((o, i) => ({ partition: o.partition, event: lowStock(sellerE, `m${o.partition}`, t + i) }))
    await admin.produce(
      productEventsTopic,
      markers.map(({ event, partition }) => ({
        partition,
        key: sellerE,
        value: JSON.stringify(encode(event)),
        headers: { eventType: event.eventType }
      }))
    )
    const ends = await admin.ends(productEventsTopic)
    await eventually(
      "the markers committed by the restarted notification-service",
      async () => (uncommitted(await admin.offsets(groupOf.notification, productEventsTopic), ends).length === 0 ? true : undefined),
      60_000,
      () => lastLogs(restarted)
    )
    // Caught up from the committed offsets: only records appended since the stop (the markers, and any
    // by someone else) may be consumed.
    const appended = before.reduce((sum, o) => sum + (ends.get(o.partition)!.high - o.high), 0)
    const consumed = await counterSum(restarted, "events_consumed_total", { group: groupOf.notification })
    expect(consumed, "the markers consumed by the restarted service").toBeGreaterThanOrEqual(markers.length)
    expect(consumed, `consumed after restart (records appended since the stop: ${appended})`).toBeLessThanOrEqual(appended)
    expect(await stopProgram(restarted, 30_000), lastLogs(restarted)).toBe(0)
    await expectCommitted(groupOf.notification)
  }, 240_000)
})

