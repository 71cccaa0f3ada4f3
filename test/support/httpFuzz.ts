import fc from "fast-check"
import { type Body, type BodyKind, bodies, examplesSeller } from "./httpFuzzBodies.js"

/**
 * Generated HTTP requests for the fuzz test (test/programs/http-fuzz.test.ts): every route of the
 * embedded program, with paths, queries, headers, tokens and bodies from valid to hostile. Each request
 * carries the statuses the README allows for it where its parts are clean enough to say (`expect`).
 */

/** A request as it goes on the wire: `path` and header values already in Node's latin1 wire form. */
export interface FuzzRequest {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer | undefined
  /** Sent with `Transfer-Encoding: chunked` instead of a Content-Length. */
  readonly chunked: boolean
  /** The statuses the README allows, when the request is clean enough to say; otherwise any below 500. */
  readonly expect: ReadonlyArray<number> | undefined
}

/** The tokens the requests use, minted by the test before generating. */
export interface FuzzTokens {
  /** A seller token for {@link ownSeller}. */
  readonly own: string
  /** A seller token for {@link otherSeller}. */
  readonly other: string
  readonly service: string
  /** Tokens that must all be refused with 401: expired, alg none, tampered, another key, no exp, bad claims. */
  readonly invalid: ReadonlyArray<string>
}

/** The seller of the contract examples: the own token may publish them and read this seller's data. */
export const ownSeller = examplesSeller
export const otherSeller = "fz_other"
/** A seller whose notifications nothing else touches: the health check after the run streams it. */
export const probeSeller = "fz_probe"

/** The 429 of the per-seller and per-token limits is allowed wherever a success is. */
const ok = (status: number) => [status, 429]

/** Characters Node will not put in a request line or header value go out as they would from a sloppy client. */
export const toWire = (s: string, { escapeSpace }: { readonly escapeSpace: boolean }) =>
  Array.from(s).map((ch) => {
    const code = ch.codePointAt(0)!
    if (code < 0x21 || code === 0x7f) {
      return escapeSpace || (code !== 0x09 && code !== 0x20) ? encodeURIComponent(ch) : ch
    }
    return code > 0x7e ? Buffer.from(ch, "utf8").toString("latin1") : ch
  }).join("")

const garbage = fc.string({ unit: fc.oneof(fc.constantFrom("%", "/", ".", "?", "&", "=", "#", "\\", ";", "+"), fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 })), maxLength: 40 })

const invalidSellers = fc.oneof(
  fc.constantFrom("", "a-b", "x".repeat(65), "😀", "%20", "..", ".", "seller_42%00", "seller%5F42", "SELLER_42", "seller_42%2Fx", "%zz", "%C3%28", "*"),
  garbage
)

interface Route {
  readonly template: string
  /** Methods other than OPTIONS (which every known path answers with 204). */
  readonly methods: ReadonlyArray<string>
  readonly auth: "bearer" | "stream" | "none"
}

const routes: ReadonlyArray<Route> = [
  { template: "/events", methods: ["POST"], auth: "bearer" },
  { template: "/sellers/{seller}/notifications", methods: ["GET"], auth: "bearer" },
  { template: "/sellers/{seller}/notifications/stream", methods: ["GET"], auth: "stream" },
  { template: "/sellers/{seller}/metrics", methods: ["GET"], auth: "bearer" },
  { template: "/healthz", methods: ["GET"], auth: "none" },
  { template: "/readyz", methods: ["GET"], auth: "none" },
  { template: "/metrics", methods: ["GET"], auth: "none" },
  { template: "/docs", methods: ["GET"], auth: "none" },
  { template: "/dashboard", methods: ["GET"], auth: "none" },
  { template: "/dashboard/config.json", methods: ["GET"], auth: "none" },
  { template: "/dashboard/app.js", methods: ["GET"], auth: "none" },
  { template: "/dashboard/{seller}", methods: [], auth: "none" },
  { template: "/openapi.json", methods: [], auth: "none" },
  { template: "/", methods: [], auth: "none" },
  { template: "/sellers/{seller}", methods: [], auth: "none" },
  { template: "/events/{seller}", methods: [], auth: "none" },
  { template: "/favicon.ico", methods: [], auth: "none" }
]

type PathMutation =
  | { readonly kind: "replace"; readonly at: number; readonly with: string }
  | { readonly kind: "encode"; readonly at: number }
  | { readonly kind: "insert"; readonly at: number; readonly segment: string }
  | { readonly kind: "case"; readonly at: number }
  | { readonly kind: "prefix"; readonly prefix: string }
  | { readonly kind: "suffix"; readonly suffix: string }

const pathMutation: fc.Arbitrary<PathMutation> = fc.oneof(
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), with: fc.oneof(garbage, invalidSellers) }),
  fc.record({ kind: fc.constant("encode" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    segment: fc.oneof(
      fc.constantFrom("", ".", "..", "%2e%2e", "%2F", "%00", "\\", "😀"),
      fc.constantFrom(255, 2000, 8000).map((n) => "a".repeat(n))
    )
  }),
  fc.record({ kind: fc.constant("case" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("prefix" as const), prefix: fc.constantFrom("/", "//", "/./", "/../", "http://127.0.0.1", "http://evil.example", "*") }),
  fc.record({ kind: fc.constant("suffix" as const), suffix: fc.constantFrom("/", "//", "/.", "/..", "#frag", "%", ";x=1", "/..%2f..%2fetc%2fpasswd") })
)

const pathMutations: fc.Arbitrary<ReadonlyArray<PathMutation>> = fc.oneof(
  { weight: 3, arbitrary: fc.constant([]) },
  { weight: 2, arbitrary: fc.array(pathMutation, { minLength: 1, maxLength: 3 }) }
)

const mutatePath = (path: string, mutation: PathMutation): string => {
  if (mutation.kind === "prefix") return mutation.prefix === "*" ? "*" : mutation.prefix + path.slice(1)
  if (mutation.kind === "suffix") return path + mutation.suffix
  const segments = path.split("/")
  const at = 1 + (mutation.at % Math.max(1, segments.length - 1))
  const segment = segments[at] ?? ""
  if (mutation.kind === "replace") segments[at] = mutation.with
  else if (mutation.kind === "encode") segments[at] = Array.from(Buffer.from(segment)).map((b) => "%" + b.toString(16).padStart(2, "0")).join("")
  else if (mutation.kind === "case") segments[at] = segment.toUpperCase()
  else segments.splice(at, 0, mutation.segment)
  return segments.join("/")
}

const queryKeys = ["limit", "cursor", "from", "to", "lastEventId", "access_token"] as const

const queryValue = (tokens: FuzzTokens) =>
  fc.oneof(
    fc.constantFrom(
      "1", "50", "200", "0", "201", "-1", "1.5", "1e2", "0x10", "NaN", "", "9".repeat(400), "9999999999999999", "99999999999999999",
      "2026-11-26", "2026-11-26T20", "2026-13-45", "2024-02-29", "2026-12-01T25", "seller_42-sku_1001-ProductUpdated-1795724712000"
    ),
    fc.constantFrom(tokens.own, tokens.other, tokens.service, ...tokens.invalid),
    garbage
  )

interface Query {
  readonly pairs: ReadonlyArray<readonly [string, string]>
  readonly encode: "raw" | "component" | "broken"
}

const query = (tokens: FuzzTokens): fc.Arbitrary<Query> =>
  fc.record({
    pairs: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...queryKeys), garbage), queryValue(tokens)), { maxLength: 4 }),
    encode: fc.constantFrom("raw" as const, "component" as const, "broken" as const)
  })

const queryString = ({ encode, pairs }: Query) =>
  pairs.length === 0 ? "" : "?" + pairs.map(([k, v]) =>
    encode === "raw" ? `${k}=${v}` : encode === "component" ? `${encodeURIComponent(k)}=${encodeURIComponent(v)}` : `${k}=%${v}%E0%A4%A`
  ).join("&")

type Credential = "none" | "own" | "other" | "service" | "invalid" | "garbage"

interface Authorization {
  readonly credential: Credential
  readonly header: string | undefined
}

const authorization = (tokens: FuzzTokens): fc.Arbitrary<Authorization> =>
  fc.oneof(
    fc.constantFrom<Credential>("none", "own", "other", "service", "invalid").chain((credential) => {
      const tokenOf = credential === "own" ? fc.constant(tokens.own) : credential === "other"
        ? fc.constant(tokens.other)
        : credential === "service"
        ? fc.constant(tokens.service)
        : fc.constantFrom(...tokens.invalid)
      return credential === "none"
        ? fc.constant<Authorization>({ credential, header: undefined })
        : tokenOf.map((token): Authorization => ({ credential, header: `Bearer ${token}` }))
    }),
    fc.oneof(
      fc.constantFrom("", "Bearer", "Bearer ", "bearer", "Basic dXNlcjpwYXNz", "Bearer a.b.c", "Bearer ..", "Bearer \t", "Token x"),
      fc.constantFrom(tokens.own, tokens.service).chain((token) =>
        fc.constantFrom(`bearer ${token}`, `Bearer  ${token}`, `Bearer ${token} extra`, `Bearer ${token}.`, `Bearer ${token.slice(0, -1)}`, token)
      ),
      garbage.map((s) => `Bearer ${s}`),
      garbage
    ).map((header): Authorization => ({ credential: "garbage", header }))
  )

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant("application/json") },
  {
    weight: 4,
    arbitrary: fc.option(
      fc.constantFrom(
        "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
        "multipart/form-data", "application/xml", "*/*", "application/json; charset=latin1", "garbage", ";;;"
      ),
      { nil: undefined }
    )
  },
  { weight: 1, arbitrary: garbage }
)

const reserved = new Set(["host", "content-length", "transfer-encoding", "connection", "expect", "upgrade", "authorization", "content-type", "te", "trailer", "keep-alive"])

const extraHeaders = fc.dictionary(
  fc.oneof(
    fc.constantFrom("last-event-id", "origin", "accept", "access-control-request-method", "access-control-request-headers", "cookie", "x-forwarded-for", "accept-encoding", "range", "if-none-match", "x-http-method-override"),
    fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/).filter((name) => !reserved.has(name))
  ),
  fc.oneof(
    fc.constantFrom("https://shop.example", "https://evil.example", "null", "POST", "text/event-stream", "gzip, br", "bytes=0-10", "*", "", "DELETE"),
    fc.constantFrom("seller_42-sku_1001-ProductUpdated-1795724712000", "0", "-1", "x".repeat(4000)),
    garbage
  ),
  { maxKeys: 4 }
)

const host = fc.option(fc.constantFrom("", "evil.example", "[::1", "a b", "127.0.0.1:99999", "😀", "localhost:3000/x", "%00"), { nil: undefined, freq: 8 })

const methods = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom("GET", "POST") },
  { weight: 3, arbitrary: fc.constantFrom("OPTIONS", "HEAD", "PUT", "DELETE", "PATCH") },
  { weight: 1, arbitrary: fc.constantFrom("TRACE", "PROPFIND", "MKCOL", "PURGE", "QUERY", "FOO", "get", "M-SEARCH") }
)

const sellerSegment = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ seller: ownSeller, clean: true }) },
  { weight: 2, arbitrary: fc.constant({ seller: otherSeller, clean: true }) },
  { weight: 2, arbitrary: invalidSellers.map((seller) => ({ seller, clean: false })) }
)

interface Parts {
  readonly route: Route
  readonly method: string
  readonly seller: { readonly seller: string; readonly clean: boolean }
  readonly mutations: ReadonlyArray<PathMutation>
  readonly query: Query | undefined
  readonly auth: Authorization
  readonly contentType: string | undefined
  readonly headers: Readonly<Record<string, string>>
  readonly host: string | undefined
  readonly body: Body
  readonly chunked: boolean
}

/** Anything: every part may be hostile. */
const hostile = (tokens: FuzzTokens, maxBody: number): fc.Arbitrary<Parts> =>
  fc.record({
    route: fc.constantFrom(...routes),
    method: methods,
    seller: sellerSegment,
    mutations: pathMutations,
    query: fc.option(query(tokens), { nil: undefined, freq: 2 }),
    auth: authorization(tokens),
    contentType,
    headers: extraHeaders,
    host,
    body: bodies(maxBody),
    chunked: fc.boolean()
  })

/** A request as a client means it (a route's path and, mostly, its method; a token or none; JSON), whatever the body. */
const wellFormed = (tokens: FuzzTokens, maxBody: number): fc.Arbitrary<Parts> =>
  fc.record({
    route: fc.constantFrom(...routes),
    method: fc.oneof({ weight: 4, arbitrary: fc.constant("") }, { weight: 1, arbitrary: fc.constantFrom(...standardMethods) }),
    seller: fc.constantFrom({ seller: ownSeller, clean: true }, { seller: otherSeller, clean: true }),
    mutations: fc.constant([]),
    query: fc.constant(undefined),
    auth: authorization(tokens).filter((a) => a.credential !== "garbage"),
    contentType: fc.constant("application/json"),
    headers: fc.dictionary(fc.constantFrom("origin", "accept"), fc.constantFrom("https://shop.example", "https://evil.example", "*/*"), { maxKeys: 1 }),
    host: fc.constant(undefined),
    body: bodies(maxBody),
    chunked: fc.boolean()
  }).map((parts) => (parts.method === "" ? { ...parts, method: parts.route.methods[0] ?? "GET" } : parts))

/** Any request to the embedded program, with the statuses the README allows where its parts are clean. */
export const fuzzRequest = (tokens: FuzzTokens, maxBody: number): fc.Arbitrary<FuzzRequest> =>
  fc.oneof({ weight: 2, arbitrary: wellFormed(tokens, maxBody) }, { weight: 3, arbitrary: hostile(tokens, maxBody) }).map((r) => {
    const path = r.mutations.reduce(mutatePath, r.route.template.replace("{seller}", r.seller.seller)) +
      (r.query === undefined ? "" : queryString(r.query))
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(r.headers)) headers[name] = toWire(value, { escapeSpace: true })
    if (r.auth.header !== undefined) headers["authorization"] = toWire(r.auth.header, { escapeSpace: false })
    if (r.contentType !== undefined) headers["content-type"] = toWire(r.contentType, { escapeSpace: false })
    if (r.host !== undefined) headers["host"] = toWire(r.host, { escapeSpace: true })
    const clean = r.mutations.length === 0 && r.query === undefined && r.seller.clean && r.host === undefined &&
      Object.keys(r.headers).every((h) => h === "origin" || h === "accept" || h === "cookie")
    return {
      method: r.method,
      path: toWire(path, { escapeSpace: true }),
      headers,
      body: r.body.bytes,
      chunked: r.chunked,
      expect: clean ? expected(r.route, r.method, r.seller.seller, r.auth.credential, r.body.kind, r.contentType) : undefined
    }
  })

const standardMethods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]

/** What the README says a clean request gets; undefined where it leaves a choice the fuzz test need not pin. */
const expected = (
  route: Route,
  method: string,
  seller: string,
  credential: Credential,
  body: BodyKind,
  contentType: string | undefined
): ReadonlyArray<number> | undefined => {
  if (!standardMethods.includes(method)) return undefined
  if (method === "OPTIONS") return [route.methods.length === 0 ? 404 : 204]
  if (route.methods.length === 0) return method === "HEAD" ? undefined : [404]
  if (!route.methods.includes(method)) return method === "HEAD" ? undefined : [405]
  if (route.auth === "none") return [200]
  if (credential === "none" || credential === "invalid") return [401]
  if (credential === "garbage") return undefined
  if (route.template === "/events") {
    if (body === "tooLarge") return [413]
    const json = contentType === undefined || contentType.startsWith("application/json")
    if (!json) return undefined
    if (body === "mutated") return undefined
    if (body === "none" || body === "invalid") return [400]
    if (credential === "service") return ok(202)
    if (body === "foreign") return [403]
    return credential === "own" ? ok(202) : [403]
  }
  // a seller's data: only that seller's token (a service token names no seller)
  const mine = (credential === "own" && seller === ownSeller) || (credential === "other" && seller === otherSeller)
  return mine ? ok(200) : [403]
}
