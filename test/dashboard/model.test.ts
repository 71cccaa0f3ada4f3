import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { devJwtSecret, signToken } from "../../src/services/Tokens.js"

/**
 * The dashboard's pure modules (static/dashboard/*.js, plain ES modules for the browser), run here in
 * Node: the token's claims, the feed's order and de-duplication, money and the chart's columns.
 */
interface Claims {
  readonly sellerId?: string
  readonly exp?: number
  readonly error?: string
}
interface TokenModule {
  readonly tokenFromHash: (hash: string) => string | null
  readonly decodeToken: (token: string) => Claims
  readonly isExpired: (claims: Claims, nowMillis: number) => boolean
}
interface Item {
  readonly id: string
  readonly seq: number
}
interface FeedModule {
  readonly createFeed: (capacity?: number) => {
    readonly add: (items: ReadonlyArray<unknown>) => ReadonlyArray<Item>
    readonly ordered: () => ReadonlyArray<Item>
    readonly newestId: () => string | null
    readonly size: () => number
  }
}
interface MetricsModule {
  readonly formatMinor: (decimal: string, currency: string) => string
  readonly windowStart: (nowMillis: number, hours: number) => string
  readonly hourlyColumns: (hourly: ReadonlyArray<Record<string, unknown>>, fromHour: string, nowMillis: number) => Array<Array<number>>
  readonly groupedBars: (columns: ReadonlyArray<ReadonlyArray<number>>) => Array<Array<number | null>>
}

const load = <A>(name: string): Promise<A> => import(new URL(`../../static/dashboard/${name}`, import.meta.url).href) as Promise<A>
const tokenModule = await load<TokenModule>("token.js")
const feedModule = await load<FeedModule>("feed.js")
const metricsModule = await load<MetricsModule>("metrics.js")

describe("token.js", () => {
  it("reads the token from the fragment and the seller and exp from its claims", async () => {
    const token = await Effect.runPromise(signToken(Redacted.make(devJwtSecret), { sellerId: "seller_001" }))
    expect(tokenModule.tokenFromHash(`#token=${token}`)).toBe(token)
    expect(tokenModule.tokenFromHash("#other=1")).toBeNull()
    const claims = tokenModule.decodeToken(token)
    expect(claims.sellerId).toBe("seller_001")
    expect(claims.exp! * 1000).toBeGreaterThan(Date.now())
    expect(tokenModule.isExpired(claims, Date.now())).toBe(false)
    expect(tokenModule.isExpired(claims, claims.exp! * 1000)).toBe(true)
  })

  it("says why a token cannot open a dashboard", async () => {
    const service = await Effect.runPromise(signToken(Redacted.make(devJwtSecret), { role: "service" }))
    expect(tokenModule.decodeToken(service).error).toMatch(/service token/)
    expect(tokenModule.decodeToken("abc").error).toMatch(/not a token/)
    expect(tokenModule.decodeToken("a.%%%.c").error).toMatch(/not readable/)
    expect(tokenModule.decodeToken(`a.${Buffer.from(JSON.stringify({ sellerId: "bad-id" })).toString("base64url")}.c`).error).toMatch(/names no seller/)
  })
})

describe("feed.js", () => {
  it("keeps each notification once, newest first by seq, however often and in whatever order it comes", () => {
    const feed = feedModule.createFeed()
    expect(feed.add([{ id: "b", seq: 2 }, { id: "a", seq: 1 }]).map((n) => n.id)).toEqual(["b", "a"])
    // A replay after a reconnect, and a redelivered one.
    expect(feed.add([{ id: "b", seq: 2 }, { id: "c", seq: 3 }, { id: "c", seq: 3 }]).map((n) => n.id)).toEqual(["c"])
    expect(feed.ordered().map((n) => n.id)).toEqual(["c", "b", "a"])
    expect(feed.newestId()).toBe("c")
    expect(feed.add([null, { id: 1 }, "x"])).toEqual([])
  })

  it("keeps the newest `capacity`", () => {
    const feed = feedModule.createFeed(2)
    feed.add([1, 2, 3].map((seq) => ({ id: `n${seq}`, seq })))
    expect(feed.ordered().map((n) => n.id)).toEqual(["n3", "n2"])
  })
})

describe("metrics.js", () => {
  it("formats exact minor units in the currency's digits", () => {
    expect(metricsModule.formatMinor("15996", "EUR")).toBe("159.96 EUR")
    expect(metricsModule.formatMinor("5", "EUR")).toBe("0.05 EUR")
    expect(metricsModule.formatMinor("500", "JPY")).toBe("500 JPY")
    expect(metricsModule.formatMinor("123456789012345678901", "USD")).toBe("1,234,567,890,123,456,789.01 USD")
    expect(metricsModule.formatMinor("-1050", "EUR")).toBe("-10.50 EUR")
  })

  it("charts every hour of the window, zero where there was no event", () => {
    const now = Date.parse("2026-11-26T20:30:00Z")
    const from = metricsModule.windowStart(now, 3)
    expect(from).toBe("2026-11-26T18")
    const columns = metricsModule.hourlyColumns([{ hour: "2026-11-26T19", created: 2, updated: 1, deleted: 0, priceChanges: 1 }], from, now)
    const hour = (h: number) => Date.parse(`2026-11-26T${h}:00:00Z`) / 1000
    expect(columns).toEqual([[hour(18), hour(19), hour(20)], [0, 2, 0], [0, 1, 0], [0, 0, 0], [0, 1, 0]])
  })

  it("lays an hour's counts side by side, one slot each", () => {
    expect(metricsModule.groupedBars([[0, 3600], [1, 2], [3, 4]])).toEqual([
      [0, 1800, 3600, 5400],
      [1, null, 2, null],
      [null, 3, null, 4]
    ])
  })
})
