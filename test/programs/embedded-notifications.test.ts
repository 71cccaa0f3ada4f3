import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { baseMillis, created, deleted, encode, lowStock, product, updated } from "../support/events.js"
import { startEmbedded, token } from "../support/embedded.js"
import { openSse } from "../support/sse.js"

/**
 * The embedded program through HTTP: POST /events, SSE per seller, Last-Event-ID replay,
 * auth, all-or-nothing validation and idempotency.
 */
let app: Awaited<ReturnType<typeof startEmbedded>>
let serviceToken: string
const sellers = ["e2e_a", "e2e_b", "e2e_c"] as const

beforeAll(async () => {
  app = await startEmbedded()
  serviceToken = await token({ role: "service" })
})
afterAll(() => app.dispose())

const post = (body: unknown, bearer = serviceToken) =>
  fetch(`${app.baseUrl}/events`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })

/** Six events per seller, interleaved across sellers: create, update, low stock, update, create, delete. */
const batchFor = (seller: string, t0: number) => {
  const p = product()
  const cheaper = product({ price: { amountMinor: 3999, currency: "EUR" }, stock: 4 })
  const soldOut = product({ price: { amountMinor: 3999, currency: "EUR" }, stock: 0 })
  return [
    created(seller, "lamp", t0),
    updated(seller, "lamp", t0 + 1, p, cheaper),
    lowStock(seller, "lamp", t0 + 2, 4, 5),
    updated(seller, "lamp", t0 + 3, cheaper, soldOut),
    created(seller, "desk", t0 + 4, product({ name: "Oak desk", category: "home/furniture" })),
    deleted(seller, "lamp", t0 + 5, soldOut)
  ]
}
const interleave = <A>(lists: ReadonlyArray<ReadonlyArray<A>>): Array<A> =>
  lists[0]!.flatMap((_, i) => lists.map((l) => l[i]!))

const listIds = async (seller: string) => {
  const response = await fetch(`${app.baseUrl}/sellers/${seller}/notifications?limit=200`, {
    headers: { authorization: `Bearer ${await token({ sellerId: seller })}` }
  })
  expect(response.status).toBe(200)
  const body = (await response.json()) as { items: Array<{ id: string }> }
  return body.items.map((n) => n.id)
}

describe("embedded program end to end", () => {
  it("streams each seller exactly its notifications in order, replays after Last-Event-ID, stays idempotent", async () => {
    const perSeller = sellers.map((s, i) => batchFor(s, baseMillis + i * 100))
    const streams = await Promise.all(sellers.map(async (s) =>
      openSse(`${app.baseUrl}/sellers/${s}/notifications/stream`, { authorization: `Bearer ${await token({ sellerId: s })}` })
    ))
    expect(streams.map((s) => s.status)).toEqual([200, 200, 200])

    const batch = interleave(perSeller).map(encode)
    const accepted = await post(batch)
    expect(accepted.status).toBe(202)
    expect(((await accepted.json()) as { accepted: Array<string> }).accepted).toEqual(batch.map((e) => e.eventId))

    for (const [i, stream] of streams.entries()) {
      const events = await stream.waitFor(6)
      expect(events.map((e) => e.id)).toEqual(perSeller[i]!.map((e) => e.eventId))
      expect(events.map((e) => e.event)).toEqual(perSeller[i]!.map((e) => e.eventType))
      expect(JSON.parse(events[2]!.data)).toMatchObject({ severity: "urgent", sellerId: sellers[i] })
    }
    // a marker per seller, after another seller's event: the next thing each stream sees is its marker
    await post(encode(created("e2e_other", "x", baseMillis)))
    const markers = sellers.map((s) => created(s, "marker", baseMillis + 500))
    expect((await post(markers.map(encode))).status).toBe(202)
    for (const [i, stream] of streams.entries()) {
      expect((await stream.waitFor(7))[6]!.id).toBe(markers[i]!.eventId)
    }
    streams.forEach((s) => s.close())

    // reconnect with the third event's id: exactly the rest, then live ones
    const seller = sellers[0]
    const resumed = await openSse(`${app.baseUrl}/sellers/${seller}/notifications/stream`, {
      authorization: `Bearer ${await token({ sellerId: seller })}`,
      "last-event-id": perSeller[0]![2]!.eventId
    })
    expect((await resumed.waitFor(4)).map((e) => e.id)).toEqual(
      [...perSeller[0]!.slice(3), markers[0]!].map((e) => e.eventId)
    )
    const later = created(seller, "chair", baseMillis + 1_000)
    expect((await post(encode(later))).status).toBe(202)
    expect((await resumed.waitFor(5)).map((e) => e.id)[4]).toBe(later.eventId)

    // the same batch again: accepted, and no duplicate notification in the store
    expect((await post(batch)).status).toBe(202)
    const done = created(seller, "done", baseMillis + 2_000)
    await post(encode(done))
    // redelivered notifications are published again, but the stream drops what it sent already
    expect((await resumed.waitFor(6)).map((e) => e.id)[5]).toBe(done.eventId)
    resumed.close()
    const stored = await listIds(seller)
    expect(stored).toHaveLength(9)
    expect(new Set(stored).size).toBe(9)
  })

  it("answers 401 without a token and 403 for another seller's stream or events", async () => {
    const noToken = await fetch(`${app.baseUrl}/sellers/e2e_a/notifications/stream`)
    expect(noToken.status).toBe(401)
    const other = await openSse(`${app.baseUrl}/sellers/e2e_a/notifications/stream`, {
      authorization: `Bearer ${await token({ sellerId: "e2e_b" })}`
    })
    expect(other.status).toBe(403)
    const viaQuery = await openSse(
      `${app.baseUrl}/sellers/e2e_a/notifications/stream?access_token=${await token({ sellerId: "e2e_a" })}`
    )
    expect(viaQuery.status).toBe(200)
    viaQuery.close()
    const foreign = await post(encode(created("e2e_a", "p1", baseMillis)), await token({ sellerId: "e2e_b" }))
    expect(foreign.status).toBe(403)
  })

  it("rejects an invalid batch with a reason per event and publishes nothing of it", async () => {
    const seller = "e2e_invalid"
    const good = encode(created(seller, "p1", baseMillis))
    const bad = { ...good, eventId: "someone_else-p1-ProductCreated-" + baseMillis }
    const response = await post([good, bad, { eventType: "Nope" }])
    expect(response.status).toBe(400)
    const body = (await response.json()) as { errors: Array<{ index: number; path: string; message: string }> }
    expect(body.errors).toContainEqual(expect.objectContaining({ index: 1, path: "eventId" }))
    expect(body.errors).toContainEqual(expect.objectContaining({ index: 2, path: "eventType" }))
    expect(body.errors.some((e) => e.index === 0)).toBe(false)

    expect((await post("{not json")).status).toBe(400)
    expect((await post("x".repeat(2 * 1024 * 1024))).status).toBe(413)

    // had the valid event been published, it would reach the stream before a later one of its seller
    const stream = await openSse(`${app.baseUrl}/sellers/${seller}/notifications/stream`, {
      authorization: `Bearer ${await token({ sellerId: seller })}`
    })
    const later = created(seller, "p2", baseMillis + 1)
    await post(encode(later))
    expect((await stream.waitFor(1)).map((e) => e.id)).toEqual([later.eventId])
    stream.close()
    expect(await listIds(seller)).toEqual([later.eventId])
  })

  it("pages a seller's notifications newest first by cursor, and names a bad query parameter", async () => {
    const seller = "e2e_pages"
    const events = Array.from({ length: 5 }, (_, i) => created(seller, `p${i}`, baseMillis + i))
    const auth = { authorization: `Bearer ${await token({ sellerId: seller })}` }
    const stream = await openSse(`${app.baseUrl}/sellers/${seller}/notifications/stream`, auth)
    expect((await post(events.map(encode))).status).toBe(202)
    await stream.waitFor(events.length)
    stream.close()

    const pages: Array<Array<string>> = []
    let cursor: string | null = null
    do {
      const response = await fetch(
        `${app.baseUrl}/sellers/${seller}/notifications?limit=2${cursor === null ? "" : `&cursor=${cursor}`}`,
        { headers: auth }
      )
      expect(response.status).toBe(200)
      const body = (await response.json()) as { items: Array<{ id: string }>; nextCursor: string | null }
      pages.push(body.items.map((n) => n.id))
      cursor = body.nextCursor
    } while (cursor !== null && pages.length < 10)
    expect(pages).toEqual([[events[4], events[3]], [events[2], events[1]], [events[0]]].map((page) => page.map((e) => e!.eventId)))

    const reasonOf = async (query: string) => {
      const response = await fetch(`${app.baseUrl}/sellers/${seller}/notifications?${query}`, { headers: auth })
      return [response.status, ((await response.json()) as { reason: string }).reason]
    }
    expect(await reasonOf("limit=0")).toEqual([400, "invalid query: limit: must be an integer from 1 to 200"])
    expect(await reasonOf("limit=ten")).toEqual([400, "invalid query: limit: must be an integer from 1 to 200"])
    expect(await reasonOf("cursor=-3")).toEqual([400, "invalid query: cursor: is not a cursor from a previous page"])
  })
})
