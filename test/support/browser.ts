import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type BrowserContext, chromium, type Page } from "playwright-core"

/** Debian's chromium (`apt-get install -y chromium`), driven by playwright-core: nothing downloaded. */
export const chromiumPath = "/usr/bin/chromium"

/** Where browser tests leave screenshots (gitignored; CI keeps them as artifacts). */
export const artifactsDir = fileURLToPath(new URL("../../test-artifacts/", import.meta.url))

/** A headless chromium with a throwaway profile; `close` removes both. */
export const launchBrowser = async (what: string): Promise<{ readonly context: BrowserContext; readonly close: () => Promise<void> }> => {
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} is missing: install Debian's chromium (apt-get install -y chromium) to run the ${what} browser test`)
  }
  const profile = mkdtempSync(join(tmpdir(), "chromium-"))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 800 },
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
  return {
    context,
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    }
  }
}

/** Refuses (and remembers) every request not to one of `origins`: the page must not need another. */
export const onlyFrom = async (context: BrowserContext, origins: ReadonlyArray<string>): Promise<Array<string>> => {
  const elsewhere: Array<string> = []
  await context.route("**/*", (route) => {
    const url = route.request().url()
    if (origins.some((origin) => url.startsWith(origin)) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue()
    elsewhere.push(url)
    return route.abort()
  })
  return elsewhere
}

/** The page's console errors and uncaught exceptions, as they come. */
export const errorsOf = (page: Page): Array<string> => {
  const errors: Array<string> = []
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`)
  })
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`))
  return errors
}

export const screenshot = async (page: Page, name: string) => {
  mkdirSync(artifactsDir, { recursive: true })
  await page.screenshot({ path: join(artifactsDir, `${name}.png`), fullPage: true })
}
