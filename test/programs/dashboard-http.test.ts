import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startEmbedded } from "../support/embedded.js"
import { request } from "node:http"

/**
 * The dashboard's files as the program serves them: content types, a strict CSP naming the metrics
 * origin of DASHBOARD_METRICS_URL, cache headers and ETags, uPlot from node_modules, 405 for other methods.
 */
const analytics = "http://127.0.0.1:3002"
let app: Awaited<ReturnType<typeof startEmbedded>>

beforeAll(async () => {
  app = await startEmbedded({ DASHBOARD_METRICS_URL: `${analytics}/` })
}, 60_000)
afterAll(() => app?.dispose())

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${app.baseUrl}${path}`, { headers })

describe("/dashboard", () => {
  it("serves the page with a strict CSP that allows the metrics origin, and its config", async () => {
    const page = await get("/dashboard")
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8")
    const csp = page.headers.get("content-security-policy")!
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self';")
    expect(csp).toContain(`connect-src 'self' ${analytics};`)
    expect(csp).not.toContain("unsafe-inline")
    expect(page.headers.get("x-content-type-options")).toBe("nosniff")
    expect(page.headers.get("referrer-policy")).toBe("no-referrer")
    expect(page.headers.get("cache-control")).toBe("no-cache")
    const html = await page.text()
    expect(html).not.toMatch(/<script>|<style>|\sstyle=|\son\w+=/)
    expect(html).toContain('src="/dashboard/vendor/uplot-1.6.32/uPlot.iife.min.js"')

    const config = await get("/dashboard/config.json")
    expect(config.headers.get("cache-control")).toBe("no-store")
    expect(await config.json()).toEqual({ metricsUrl: analytics })
  })

  it("serves the modules and uPlot (from node_modules) with their content types; revalidates by ETag", async () => {
    const module = await get("/dashboard/app.js")
    expect(module.headers.get("content-type")).toBe("text/javascript; charset=utf-8")
    const etag = module.headers.get("etag")!
    expect(etag).toMatch(/^"[\w-]+"$/)
    const again = await get("/dashboard/app.js", { "if-none-match": etag })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe("")

    const uplot = await get("/dashboard/vendor/uplot-1.6.32/uPlot.iife.min.js")
    expect(uplot.headers.get("cache-control")).toBe("public, max-age=31536000, immutable")
    const installed = readFileSync(createRequire(import.meta.url).resolve("uplot/dist/uPlot.iife.min.js"))
    expect(Buffer.from(await uplot.arrayBuffer()).equals(installed)).toBe(true)
    expect((await get("/dashboard/vendor/uplot-1.6.32/uPlot.min.css")).headers.get("content-type")).toBe("text/css; charset=utf-8")
    expect((await get("/dashboard/dashboard.css")).headers.get("content-type")).toBe("text/css; charset=utf-8")
  })

  it("answers another method with 405 and allow, and a file it does not have with 404", async () => {
    const post = await fetch(`${app.baseUrl}/dashboard`, { method: "POST" })
    expect(post.status).toBe(405)
    expect(post.headers.get("allow")).toBe("GET, OPTIONS")
    expect((await get("/dashboard/nope.js")).status).toBe(404)
    // Sent as written (fetch would resolve the dot segments itself): the server must not leave its directory.
    for (const path of ["/dashboard/../package.json", "/dashboard/%2e%2e/package.json", "/dashboard/..%2fpackage.json"]) {
      const status = await new Promise<number>((resolve, reject) =>
        request(`${app.baseUrl}${path}`, { path }, (response) => {
          response.resume()
          resolve(response.statusCode ?? 0)
        }).on("error", reject).end())
      expect(status, path).toBe(404)
    }
  })
})
