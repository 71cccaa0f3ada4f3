import type { BrowserContext } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { launchBrowser, onlyFrom } from "../support/browser.js"
import { startEmbedded } from "../support/embedded.js"

let app: Awaited<ReturnType<typeof startEmbedded>>
let browser: Awaited<ReturnType<typeof launchBrowser>>
let context: BrowserContext

beforeAll(async () => {
  app = await startEmbedded({}, { listener: true })
  browser = await launchBrowser("/docs")
  context = browser.context
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await app?.dispose()
})

describe("/docs", () => {
  it("renders the API reference in a real browser, from this server alone (no CDN)", async () => {
    // Anything not from the program is refused and remembered: the reference must not need it.
    const elsewhere = await onlyFrom(context, [new URL(app.baseUrl).origin])
    const page = await context.newPage()
    const errors: Array<string> = []
    page.on("pageerror", (error) => errors.push(error.message))
    const response = await page.goto(`${app.baseUrl}/docs`)
    expect(response?.status()).toBe(200)
    expect(await page.title()).toBe("product-events HTTP API")
    const visible = (text: string) => page.getByText(text, { exact: true }).first().waitFor({ timeout: 30_000 })
    // Scalar renders the document: its version, the first group's operations, and each group in the sidebar.
    await visible("OAS 3.1.0")
    await visible("Publish events")
    for (const group of ["events", "notifications", "metrics", "health"]) await visible(group)
    // A collapsed group opens on a click, showing its operations (the SSE stream with its frame format).
    await page.getByText("notifications", { exact: true }).first().click()
    await visible("Live notifications (Server-Sent Events)")
    await page.getByText("Live notifications (Server-Sent Events)", { exact: true }).first().click()
    await page.getByText("text/event-stream").first().waitFor({ state: "attached", timeout: 30_000 })
    expect(errors).toEqual([])
    expect(elsewhere).toEqual([])
  }, 90_000)
})
