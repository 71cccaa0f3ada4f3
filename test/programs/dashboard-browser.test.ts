import { randomBytes } from "node:crypto"
import { Effect, Redacted } from "effect"
import type { BrowserContext, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ProductEvent } from "../../src/domain/ProductEvent.js"
import { signToken } from "../../src/services/Tokens.js"
import { errorsOf, launchBrowser, onlyFrom, screenshot } from "../support/browser.js"
import { startEmbedded, token } from "../support/embedded.js"
import { created, deleted, encode, lowStock, product, updated } from "../support/events.js"

/**
 * The seller dashboard in a real browser against the embedded program: stored then live notifications
 * through EventSource, newest first and each once; the metrics and their chart; what it says when the
 * token expires or is refused. (Its survival of a notification-service restart is an integration test:
 * test/integration/dashboard-restart.test.ts.)
 */

let app: Awaited<ReturnType<typeof startEmbedded>>
let browser: Awaited<ReturnType<typeof launchBrowser>>
let context: BrowserContext
let elsewhere: Array<string>
const run = randomBytes(3).toString("hex")

beforeAll(async () => {
  app = await startEmbedded({}, { listener: true })
  browser = await launchBrowser("dashboard")
  context = browser.context
  elsewhere = await onlyFrom(context, [new URL(app.baseUrl).origin])
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await app?.dispose()
})

const post = async (events: ReadonlyArray<ProductEvent>) => {
  const response = await fetch(`${app.baseUrl}/events`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${await token({ role: "service" })}` },
    body: JSON.stringify(events.map(encode))
  })
  expect(response.status, await response.clone().text()).toBe(202)
}

const feedIds = (page: Page) => page.locator("#feed li").evaluateAll((items) => items.map((li) => li.getAttribute("data-id")))
const connection = (page: Page) => page.locator("#connection").getAttribute("data-state")
const metric = (page: Page, name: string) => page.locator(`#totals [data-metric="${name}"]`).textContent()

describe("the seller dashboard", () => {
  it("shows the stored notifications, then live ones newest first, each once, and the metrics with their chart; no console error", async () => {
    const seller = `dash_${run}`
    const t = Date.now()
    const lamp = product()
    const cheaper = product({ price: { amountMinor: 3999, currency: "EUR" }, stock: 4 })
    const shelf = product({ name: "Oak shelf", category: "home/furniture", price: { amountMinor: 12900, currency: "EUR" }, stock: 7 })
    const stored = [created(seller, "lamp", t - 3000, lamp), created(seller, "shelf", t - 2000, shelf)]
    await post(stored)
    // Stored before the page opens: the history shows them.
    await expect.poll(async () => {
      const list = await fetch(`${app.baseUrl}/sellers/${seller}/notifications`, { headers: { authorization: `Bearer ${await token({ sellerId: seller })}` } })
      return ((await list.json()) as { items: Array<unknown> }).items.length
    }, { timeout: 15_000 }).toBe(2)

    const page = await context.newPage()
    const errors = errorsOf(page)
    const response = await page.goto(`${app.baseUrl}/dashboard#token=${await token({ sellerId: seller })}`)
    expect(response?.status()).toBe(200)
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'")
    await expect.poll(() => connection(page), { timeout: 15_000 }).toBe("live")
    expect(await feedIds(page)).toEqual(stored.map((e) => e.eventId).reverse())
    await expect(page.locator("#seller").textContent()).resolves.toBe(`seller ${seller}`)

    const live = [
      updated(seller, "lamp", t - 1000, lamp, cheaper),
      lowStock(seller, "lamp", t - 999, 4, 5),
      deleted(seller, "shelf", t, shelf)
    ]
    await post(live)
    const all = [...stored, ...live].map((e) => e.eventId).reverse()
    await expect.poll(() => feedIds(page), { timeout: 15_000 }).toEqual(all)
    await expect(page.locator(`#feed li[data-id="${live[1]!.eventId}"] .severity`).textContent()).resolves.toBe("urgent")
    await expect(page.locator(`#feed li[data-id="${live[0]!.eventId}"] .severity`).textContent()).resolves.toBe("info")

    // The metrics: totals, and a chart of the hourly counts (uPlot's canvas and legend).
    await expect.poll(() => metric(page, "deleted"), { timeout: 20_000 }).toBe("1")
    expect({
      activeProducts: await metric(page, "activeProducts"),
      totalStockUnits: await metric(page, "totalStockUnits"),
      value: await metric(page, "inventoryValue.EUR"),
      created: await metric(page, "created"),
      updated: await metric(page, "updated"),
      priceChanges: await metric(page, "priceChanges")
    }).toEqual({ activeProducts: "1", totalStockUnits: "4", value: "159.96 EUR", created: "2", updated: "1", priceChanges: "1" })
    await page.locator("#chart canvas").waitFor()
    expect(await page.locator("#chart .u-legend").textContent()).toContain("created")
    const box = await page.locator("#chart canvas").boundingBox()
    expect(box?.width).toBeGreaterThan(200)

    // Nothing twice after a few more seconds of heartbeats and metrics refreshes.
    await page.waitForTimeout(1500)
    expect(await feedIds(page)).toEqual(all)
    await screenshot(page, "dashboard-embedded")
    expect(errors).toEqual([])
    expect(elsewhere).toEqual([])
    await page.close()
  }, 90_000)

  it("says the token expired and asks for a fresh one, without retrying into 401s; a fresh token resumes with what came meanwhile", async () => {
    const seller = `dash_${run}_exp`
    const page = await context.newPage()
    const streamRequests: Array<string> = []
    page.on("request", (request) => {
      if (request.url().includes("/notifications/stream")) streamRequests.push(request.url())
    })
    const first = created(seller, "lamp", Date.now() - 1000)
    await post([first])
    await page.goto(`${app.baseUrl}/dashboard#token=${await token({ sellerId: seller }, "4s")}`)
    await expect.poll(() => feedIds(page), { timeout: 15_000 }).toEqual([first.eventId])
    // The server ends the stream when the token's exp passes; the page says so.
    await expect.poll(() => connection(page), { timeout: 15_000 }).toBe("expired")
    expect(await page.locator("#message").textContent()).toMatch(/Your token expired at .+ Paste a fresh token for dash_\w+_exp/)
    expect(await page.locator("#token-form").isVisible()).toBe(true)
    const requestsAtExpiry = streamRequests.length
    await page.waitForTimeout(4000)
    expect(streamRequests.length, "no reconnection loop after the token expired").toBe(requestsAtExpiry)
    await screenshot(page, "dashboard-expired")

    // Meanwhile an event; a fresh token pasted in resumes after the last one shown.
    const missed = lowStock(seller, "lamp", Date.now())
    await post([missed])
    await page.locator("#token-input").fill(await token({ sellerId: seller }))
    await page.locator("#token-form button").click()
    await expect.poll(() => connection(page), { timeout: 15_000 }).toBe("live")
    await expect.poll(() => feedIds(page), { timeout: 15_000 }).toEqual([missed.eventId, first.eventId])
    // Resumed after the newest notification shown (the history, reloaded first, may already hold the missed one).
    expect(streamRequests.at(-1)).toMatch(/[?&]lastEventId=dash_\w+_exp-lamp-/)
    expect(await page.locator("#message").isVisible()).toBe(false)
    await page.close()
  }, 60_000)

  it("a clear message for a token the server refuses (401) and for one that names no seller", async () => {
    const page = await context.newPage()
    const foreign = await Effect.runPromise(signToken(Redacted.make("another-secret-of-at-least-32-characters"), { sellerId: "s1" }))
    await page.goto(`${app.baseUrl}/dashboard#token=${foreign}`)
    await expect.poll(() => connection(page), { timeout: 15_000 }).toBe("stopped")
    expect(await page.locator("#message").textContent()).toMatch(/rejected this token \(401: invalid token: signature\)/)

    await page.locator("#token-input").fill(await token({ role: "service" }))
    await page.locator("#token-form button").click()
    await expect.poll(() => page.locator("#message").textContent(), { timeout: 5_000 }).toMatch(/service token: the dashboard needs a seller's token/)
    await page.locator("#token-input").fill("not-a-token")
    await page.locator("#token-form button").click()
    await expect.poll(() => page.locator("#message").textContent(), { timeout: 5_000 }).toMatch(/not a token/)
    await page.close()
  }, 60_000)
})
