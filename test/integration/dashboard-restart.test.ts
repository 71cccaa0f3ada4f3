import { randomBytes } from "node:crypto"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ProductEvent } from "../../src/domain/ProductEvent.js"
import { errorsOf, launchBrowser, onlyFrom, screenshot } from "../support/browser.js"
import { created, encode, lowStock, product, updated } from "../support/events.js"
import { bearer, freePort, killAll, lastLogs, type Program, startProgram, waitReady } from "../support/processes.js"
import { liveEnv, requireServers } from "../support/servers.js"

/**
 * The dashboard served by notification-service as a process on the real servers, its metrics from
 * analytics-service (another origin: DASHBOARD_METRICS_URL and CORS_ORIGINS), events posted to the
 * gateway. notification-service is SIGKILLed and started again on the same port while events keep
 * coming: the page reconnects by itself and shows every event exactly once, newest first.
 */

const run = randomBytes(4).toString("hex")
const seller = `dash_${run}`
const everyProgram: Array<Program> = []
let gateway: Program
let notification: Program
let analytics: Program
let notificationPort: number
let browser: Awaited<ReturnType<typeof launchBrowser>>

const notificationEnv = (analyticsUrl: string) => ({ ...process.env, ...liveEnv(), DASHBOARD_METRICS_URL: analyticsUrl })
const startNotification = (analyticsUrl: string, label: string) => {
  const program = startProgram("notification", notificationPort, `dash-${run}-${label}`, notificationEnv(analyticsUrl))
  everyProgram.push(program)
  return program
}

beforeAll(async () => {
  await requireServers()
  const [gatewayPort, analyticsPort] = [await freePort(), await freePort()]
  notificationPort = await freePort()
  const dashboardOrigin = `http://127.0.0.1:${notificationPort}`
  gateway = startProgram("gateway", gatewayPort, `dash-${run}-gateway`, { ...process.env, ...liveEnv() })
  analytics = startProgram("analytics", analyticsPort, `dash-${run}-analytics`, { ...process.env, ...liveEnv(), CORS_ORIGINS: dashboardOrigin })
  notification = startNotification(analytics.baseUrl, "a")
  everyProgram.push(gateway, analytics)
  await Promise.all([gateway, analytics, notification].map((p) => waitReady(p, 90_000)))
  browser = await launchBrowser("dashboard restart")
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await killAll(everyProgram)
})

const post = async (events: ReadonlyArray<ProductEvent>) => {
  const response = await fetch(`${gateway.baseUrl}/events`, {
    method: "POST",
    headers: { ...(await bearer({ role: "service" })), "content-type": "application/json" },
    body: JSON.stringify(events.map(encode))
  })
  expect(response.status, await response.clone().text()).toBe(202)
}

const feedIds = (page: Page) => page.locator("#feed li").evaluateAll((items) => items.map((li) => li.getAttribute("data-id")))

/** Three events of one product, `step` ms apart from `t`. */
const batch = (productId: string, t: number) => {
  const before = product()
  const after = product({ price: { amountMinor: 4499, currency: "EUR" }, stock: 3 })
  return [created(seller, productId, t, before), updated(seller, productId, t + 1, before, after), lowStock(seller, productId, t + 2, 3, 5)]
}

describe("the dashboard across a restart of notification-service", () => {
  it("shows every event exactly once, in order, through a SIGKILL and restart on the same port; metrics from analytics-service", async () => {
    const page = await browser.context.newPage()
    const elsewhere = await onlyFrom(browser.context, [notification.baseUrl, analytics.baseUrl])
    const errors = errorsOf(page)
    const states = new Set<string>()
    await page.exposeFunction("recordState", (state: string) => void states.add(state))
    // Every state the indicator takes, however briefly (a script in the page: the test's code has no DOM types).
    await page.addInitScript({
      content: `new MutationObserver(() => {
        const state = document.getElementById("connection")?.getAttribute("data-state")
        if (state) window.recordState(state)
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-state"] })`
    })
    const { authorization } = await bearer({ sellerId: seller })
    await page.goto(`${notification.baseUrl}/dashboard#token=${authorization.slice("Bearer ".length)}`)
    await expect.poll(() => page.locator("#connection").getAttribute("data-state"), { timeout: 20_000 }).toBe("live")

    const t = Date.now()
    const before = batch("before", t)
    await post(before)
    await expect.poll(() => feedIds(page), { timeout: 30_000 }).toEqual(before.map((e) => e.eventId).reverse())

    notification.child.kill("SIGKILL")
    await notification.exited
    // While it is down: accepted by the gateway, waiting in Kafka.
    const during = batch("during", t + 10)
    await post(during)
    await expect.poll(() => page.locator("#connection").getAttribute("data-state"), { timeout: 10_000 }).toBe("reconnecting")

    notification = startNotification(analytics.baseUrl, "b")
    await waitReady(notification, 90_000).catch((error) => {
      throw new Error(`${error}\n${lastLogs(notification)}`)
    })
    const after = batch("after", t + 20)
    await post(after)
    const all = [...before, ...during, ...after].map((e) => e.eventId).reverse()
    await expect.poll(() => feedIds(page), { timeout: 60_000 }).toEqual(all)
    await expect.poll(() => page.locator("#connection").getAttribute("data-state"), { timeout: 20_000 }).toBe("live")
    expect([...states]).toEqual(expect.arrayContaining(["connecting", "live", "reconnecting"]))

    // The metrics, from analytics-service's origin.
    await expect.poll(() => page.locator('#totals [data-metric="created"]').textContent(), { timeout: 30_000 }).toBe("3")
    expect(await page.locator('#totals [data-metric="activeProducts"]').textContent()).toBe("3")
    await page.locator("#chart canvas").waitFor()

    // Nothing twice, a little later.
    await page.waitForTimeout(2000)
    expect(await feedIds(page)).toEqual(all)
    await screenshot(page, "dashboard-restart")
    expect(elsewhere).toEqual([])
    // The browser reports the stream cut by the kill and the refused connections while the process was down, and nothing else.
    expect(errors.filter((e) => !/ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|status of 503/.test(e))).toEqual([])
    await page.close()
  }, 240_000)
})
