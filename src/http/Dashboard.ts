import { HttpApiBuilder, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Config, type ConfigError, Effect, Layer, Option } from "effect"
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Pages } from "./HttpLive.js"
import type { PageRoute } from "./Routes.js"

/**
 * The seller dashboard: static HTML, CSS and ES modules from `static/dashboard/` (no build step), and
 * uPlot from node_modules, served at `/dashboard` on the API's router as `/docs` is. Files are found
 * from this module, not the working directory, and read once at start.
 */

const staticDir = fileURLToPath(new URL("../../static/dashboard/", import.meta.url))
const require = createRequire(import.meta.url)
const uplotDir = dirname(require.resolve("uplot/package.json"))
const uplotVersion = (require("uplot/package.json") as { readonly version: string }).version

type Path = `/${string}`

/** Where the page's own files are: uPlot's path carries its version, so it may be cached for good. */
const vendorPath: Path = `/dashboard/vendor/uplot-${uplotVersion}`

/**
 * `DASHBOARD_METRICS_URL`: the base URL of analytics-service's `GET /sellers/{id}/metrics` when it is
 * another process (its `CORS_ORIGINS` must then allow this page's origin); the page's own origin by default.
 */
export const DashboardMetricsUrl: Config.Config<Option.Option<string>> = Config.string("DASHBOARD_METRICS_URL").pipe(
  Config.validate({
    message: "DASHBOARD_METRICS_URL must be an http(s) URL such as http://127.0.0.1:3002",
    validation: (url) => URL.canParse(url) && /^https?:$/.test(new URL(url).protocol)
  }),
  Config.map((url) => url.replace(/\/+$/, "")),
  Config.option
)

interface Asset {
  readonly path: Path
  /** The file, or the body itself (`config.json`). */
  readonly source: { readonly file: string } | { readonly config: true }
  readonly contentType: string
  readonly cacheControl: string
}

const javascript = "text/javascript; charset=utf-8"
const css = "text/css; charset=utf-8"
/** The page's own files: revalidated on every load (a 304 by ETag), so a new version shows at once. */
const revalidate = "no-cache"
const forGood = "public, max-age=31536000, immutable"

const own = (name: string, contentType: string): Asset => ({
  path: `/dashboard/${name}`,
  source: { file: join(staticDir, name) },
  contentType,
  cacheControl: revalidate
})
const vendor = (name: string, contentType: string): Asset => ({
  path: `${vendorPath}/${name}`,
  source: { file: join(uplotDir, "dist", name) },
  contentType,
  cacheControl: forGood
})

const assets: ReadonlyArray<Asset> = [
  { path: "/dashboard", source: { file: join(staticDir, "index.html") }, contentType: "text/html; charset=utf-8", cacheControl: revalidate },
  { path: "/dashboard/config.json", source: { config: true }, contentType: "application/json", cacheControl: "no-store" },
  own("dashboard.css", css),
  ...["app.js", "token.js", "feed.js", "stream.js", "metrics.js", "chart.js"].map((name) => own(name, javascript)),
  vendor("uPlot.iife.min.js", javascript),
  vendor("uPlot.min.css", css)
]

/** Every path the dashboard serves (GET), for the route table. */
export const dashboardRoutes: ReadonlyArray<PageRoute> = assets.map(({ path }) => ({ path, method: "GET" }))

/** An asset's bytes: the HTML with uPlot's versioned path filled in. */
const bodyOf = (asset: Asset, config: string): Uint8Array => {
  if ("config" in asset.source) return new TextEncoder().encode(config)
  if (asset.path === "/dashboard") return new TextEncoder().encode(readFileSync(asset.source.file, "utf8").replaceAll("{{vendor}}", vendorPath))
  return new Uint8Array(readFileSync(asset.source.file))
}

/**
 * No inline script or style, nothing from another origin but the metrics service's; the token in the
 * fragment is never sent as a referrer.
 */
const securityHeaders = (metricsOrigin: Option.Option<string>) => ({
  "content-security-policy": [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${Option.match(metricsOrigin, { onNone: () => "", onSome: (origin) => ` ${origin}` })}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join("; "),
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer"
})

const etagOf = (body: Uint8Array) => `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`

/** Adds the dashboard's routes to the API's router. */
const layer = Layer.unwrapEffect(Effect.gen(function*() {
  const metricsUrl = yield* DashboardMetricsUrl
  const config = JSON.stringify({ metricsUrl: Option.getOrNull(metricsUrl) })
  const headers = securityHeaders(Option.map(metricsUrl, (url) => new URL(url).origin))
  // Read once, at start: a file missing is a broken installation, a defect that stops the program.
  const served = assets.map((asset) => ({ ...asset, body: bodyOf(asset, config) }))
  return HttpApiBuilder.Router.use((router) =>
    Effect.forEach(served, (asset) => {
      const etag = etagOf(asset.body)
      const common = { ...headers, etag, "cache-control": asset.cacheControl }
      return router.get(
        asset.path,
        Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
          request.headers["if-none-match"] === etag
            ? HttpServerResponse.empty({ status: 304, headers: common })
            : HttpServerResponse.uint8Array(asset.body, { contentType: asset.contentType, headers: common }))
      )
    }, { discard: true })
  )
}))

/** The dashboard as pages of `HttpLive.serve`. */
export const DashboardPages: Pages<ConfigError.ConfigError, never> = { routes: dashboardRoutes, layer }
