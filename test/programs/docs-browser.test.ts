import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type BrowserContext, chromium } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startEmbedded } from "../support/embedded.js"

/** Debian's chromium (`apt-get install -y chromium`), driven by playwright-core: nothing downloaded. */
const chromiumPath = "/usr/bin/chromium"

let app: Awaited<ReturnType<typeof startEmbedded>>
let context: BrowserContext
let profile: string

beforeAll(async () => {
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} is missing: install Debian's chromium (apt-get install -y chromium) to run the /docs browser test`)
  }
  app = await startEmbedded({}, { listener: true })
  profile = mkdtempSync(join(tmpdir(), "docs-chromium-"))
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync"
    ]
  })
}, 90_000)

afterAll(async () => {
  await context?.close()
  await app?.dispose()
  if (profile !== undefined) rmSync(profile, { recursive: true, force: true })
})

describe("/docs", () => {
  it("renders the API reference in a real browser, from this server alone (no CDN)", async () => {
    const elsewhere: Array<string> = []
    const origin = new URL(app.baseUrl).origin
    // Anything not from the program is refused and remembered: the reference must not need it.
    await context.route("**/*", (route) => {
      const url = route.request().url()
      if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue()
      elsewhere.push(url)
      return route.abort()
    })
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
