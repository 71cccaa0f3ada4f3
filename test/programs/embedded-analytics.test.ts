import { Effect, Option } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { decodeArchive } from "../../src/domain/ArchiveEncoding.js"
import type { SellerId } from "../../src/domain/Ids.js"
import { combineAll, deltaOf, type LifecycleEvent } from "../../src/domain/MetricsDelta.js"
import { deltaItems, fromStoreItems, SellerMetrics } from "../../src/domain/SellerMetrics.js"
import { Schema } from "effect"
import { MetricsStore } from "../../src/services/MetricsStore.js"
import { ObjectStore } from "../../src/services/ObjectStore.js"
import { startEmbedded, token } from "../support/embedded.js"
import { baseMillis, created, encode, lifecycles, lowStock } from "../support/events.js"

/**
 * analytics-service through the embedded program: POSTed lifecycle events show up in
 * `GET /sellers/{id}/metrics` exactly as a fold of them; posting them again changes nothing;
 * LowStockWarning changes nothing; the archive holds each event exactly once.
 */
let app: Awaited<ReturnType<typeof startEmbedded>>
let serviceToken: string

beforeAll(async () => {
  app = await startEmbedded({ ARCHIVE_IDLE: "300 millis", ARCHIVE_TICK: "100 millis" })
  serviceToken = await token({ role: "service" })
})
afterAll(() => app.dispose())

const post = async (events: ReadonlyArray<unknown>) => {
  const response = await fetch(`${app.baseUrl}/events`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${serviceToken}` },
    body: JSON.stringify(events)
  })
  expect(response.status).toBe(202)
}

const metricsOf = async (seller: string) => {
  const response = await fetch(`${app.baseUrl}/sellers/${seller}/metrics`, {
    headers: { authorization: `Bearer ${await token({ sellerId: seller })}` }
  })
  expect(response.status).toBe(200)
  return (await response.json()) as unknown
}

const expected = (seller: string, events: ReadonlyArray<LifecycleEvent>) =>
  Schema.encodeSync(SellerMetrics)(fromStoreItems(seller as SellerId, deltaItems(combineAll(events.map(deltaOf)))))

/** The seller's metrics as its applied batches left them in the store: the pending records left out. */
const appliedOf = (seller: string) =>
  app.runtime.runPromise(
    Effect.map(Effect.flatMap(MetricsStore, (store) => store.query(seller, "")), (items) =>
      Schema.encodeSync(SellerMetrics)(fromStoreItems(seller as SellerId, items)))
  )

/** Polls until the metrics (by default as served) equal `want` (the pipeline is asynchronous), bounded. */
const eventually = async (seller: string, want: unknown, read: (seller: string) => Promise<unknown> = metricsOf) => {
  const deadline = Date.now() + 10_000
  let last: unknown
  while (Date.now() < deadline) {
    last = await read(seller)
    if (JSON.stringify(last) === JSON.stringify(want)) return
    await new Promise((r) => setTimeout(r, 100))
  }
  expect(last).toEqual(want)
}

const archivedEventIds = () =>
  app.runtime.runPromise(Effect.gen(function*() {
    const objects = yield* ObjectStore
    const files = yield* objects.list("events/")
    const ids: Array<string> = []
    for (const file of files) {
      const bytes = Option.getOrThrow(yield* objects.get(file.key))
      for (const line of decodeArchive(bytes)) ids.push(JSON.parse(line).eventId)
    }
    return ids
  }))

describe("analytics end to end", () => {
  it("serves metrics equal to a fold of the events, idempotently, and archives each event once", async () => {
    const sellers = ["an_a", "an_b"]
    const lives = lifecycles(sellers) as Array<Array<LifecycleEvent>>
    const batch = lives.flat().map(encode)
    await post(batch)
    for (const [i, seller] of sellers.entries()) await eventually(seller, expected(seller, lives[i]!))
    // ... and applied: posted again, the events are duplicates of events whose batch is in the store, not of
    // events still in an open batch (the served metrics show those already, through pending records)
    for (const [i, seller] of sellers.entries()) await eventually(seller, expected(seller, lives[i]!), appliedOf)

    // the same batch again, and low-stock warnings: nothing changes
    await post(batch)
    await post(sellers.map((s) => encode(lowStock(s, "lamp", baseMillis + 5, 3, 5))))
    const marker = sellers.map((s) => created(s, "marker", baseMillis + 7_200_000) as LifecycleEvent)
    await post(marker.map(encode))
    for (const [i, seller] of sellers.entries()) await eventually(seller, expected(seller, [...lives[i]!, marker[i]!]))

    // every lifecycle event exactly once across all objects, though the batch was published twice (the
    // archive follows the hot metrics: its files roll after ARCHIVE_IDLE)
    const all = [...lives.flat(), ...marker].map((e) => e.eventId).sort()
    const archived = async () => (await archivedEventIds()).filter((id) => id.startsWith("an_")).sort()
    const deadline = Date.now() + 10_000
    let ids = await archived()
    while (JSON.stringify(ids) !== JSON.stringify(all) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
      ids = await archived()
    }
    expect(ids).toEqual(all)
    expect((await archivedEventIds()).some((id) => id.includes("LowStockWarning"))).toBe(false)
  })

  it("answers 401 and 403 like every seller endpoint, and 400 for a bad range", async () => {
    expect((await fetch(`${app.baseUrl}/sellers/an_a/metrics`)).status).toBe(401)
    const other = await fetch(`${app.baseUrl}/sellers/an_a/metrics`, { headers: { authorization: `Bearer ${await token({ sellerId: "an_b" })}` } })
    expect(other.status).toBe(403)
    const bad = await fetch(`${app.baseUrl}/sellers/an_a/metrics?from=yesterday`, { headers: { authorization: `Bearer ${await token({ sellerId: "an_a" })}` } })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { reason: string }).reason).toBe("invalid query: from: must be YYYY-MM-DD or YYYY-MM-DDTHH (UTC)")
    // An hour and a day compare on what both name: from 20h of a day to that same day is a range.
    const tokenA = await token({ sellerId: "an_a" })
    const range = (query: string) =>
      fetch(`${app.baseUrl}/sellers/an_a/metrics?${query}`, { headers: { authorization: `Bearer ${tokenA}` } })
    const sameDay = await range("from=2026-11-26T21&to=2026-11-26")
    expect(sameDay.status).toBe(200)
    type Buckets = { hourly: Array<{ hour: string }>; daily: Array<{ day: string }> }
    const inRange = (await sameDay.json()) as Buckets
    const all = (await (await range("")).json()) as Buckets
    // The seller has events at 20h, 21h and 22h: a day item brings all its hours, only those from 21h are served.
    expect(all.hourly.some((h) => h.hour === "2026-11-26T20")).toBe(true)
    expect(inRange.hourly.length).toBeGreaterThan(0)
    expect(inRange.hourly).toEqual(all.hourly.filter((h) => h.hour >= "2026-11-26T21" && h.hour < "2026-11-27"))
    expect(inRange.daily).toEqual(all.daily.filter((d) => d.day === "2026-11-26"))
    const reversed = await range("from=2026-11-27&to=2026-11-26T23")
    expect(reversed.status).toBe(400)
    expect(((await reversed.json()) as { reason: string }).reason).toBe("from must not be after to")
  })
})
