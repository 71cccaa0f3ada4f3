import type { HttpApi } from "@effect/platform"

/** A route served beside the API's endpoints (`/docs`, the dashboard's files): its path and method. */
export interface PageRoute {
  readonly path: string
  readonly method: string
}

/** A request target's path; one that is no URL at all (`//`, `http://%zz`) as it is, up to its query. */
const pathOf = (url: string): string => {
  try {
    return new URL(url, "http://localhost").pathname
  } catch {
    return url.split("?", 1)[0]!
  }
}

/** What a request URL is to the server: the methods its path has, and the route it matches. */
export interface RouteTable {
  /** The methods of the path (OPTIONS included), none when no route has it. */
  readonly methodsOf: (url: string) => ReadonlyArray<string>
  /** The declared route (`/sellers/{sellerId}/metrics`), or {@link unmatchedRoute}: a bounded label. */
  readonly routeOf: (url: string) => string
}

/** The route label of every path no route has (so that scanners cannot grow the label set). */
export const unmatchedRoute = "unmatched"

const escape = (part: string) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** The routes of the API's groups plus `pages`, matched by path (`:param` matches one segment). */
export const routeTable = (api: HttpApi.HttpApi.Any, pages: ReadonlyArray<PageRoute>): RouteTable => {
  const table: Array<{ readonly pattern: RegExp; readonly route: string; readonly methods: Set<string> }> = []
  const add = (path: string, method: string) => {
    const segments = path.split("/")
    const source = "^" + segments.map((part) => (part.startsWith(":") ? "[^/]+" : escape(part))).join("/") + "$"
    const known = table.find((entry) => entry.pattern.source === source)
    if (known !== undefined) return void known.methods.add(method)
    // As OpenAPI writes it: /sellers/{sellerId}/metrics.
    const route = segments.map((part) => (part.startsWith(":") ? `{${part.slice(1)}}` : part)).join("/")
    table.push({ pattern: new RegExp(source), route, methods: new Set([method]) })
  }
  for (const group of Object.values((api as HttpApi.HttpApi.AnyWithProps).groups)) {
    for (const endpoint of Object.values(group.endpoints)) add(endpoint.path, endpoint.method)
  }
  for (const page of pages) add(page.path, page.method)
  return {
    methodsOf: (url) => {
      const path = pathOf(url)
      const methods = table.filter((entry) => entry.pattern.test(path)).flatMap((entry) => [...entry.methods])
      return methods.length === 0 ? [] : [...new Set([...methods, "OPTIONS"])].sort()
    },
    routeOf: (url) => {
      // Per request, for the metrics label: an origin-form target's path as it came (a label, not a lookup).
      const path = url.startsWith("/") ? url.split("?", 1)[0]! : pathOf(url)
      return table.find((entry) => entry.pattern.test(path))?.route ?? unmatchedRoute
    }
  }
}
