import { SignJWT } from "jose"
import { Agent, request } from "node:http"
import { devJwtSecret } from "../../src/services/Tokens.js"
import { token } from "./embedded.js"
import { type FuzzRequest, type FuzzTokens, otherSeller, ownSeller } from "./httpFuzz.js"

/** What came back for one request: a response, or no response at all (a hang or a connection error). */
export type Outcome =
  | {
    readonly _tag: "Response"
    readonly status: number
    readonly headers: Readonly<Record<string, string | Array<string> | undefined>>
    /** The body of a 4xx/5xx (up to 1 MiB); other bodies are read and dropped, SSE responses closed. */
    readonly body: string
  }
  | { readonly _tag: "Hang"; readonly afterMillis: number }
  | { readonly _tag: "ConnectionError"; readonly message: string }

const maxKeptBody = 1024 * 1024

/** Sends `r` over `agent`'s keep-alive sockets; never rejects, and gives up after `deadlineMillis`. */
export const send = (baseUrl: URL, agent: Agent, r: FuzzRequest, deadlineMillis: number) =>
  new Promise<Outcome>((resolve) => {
    let settled = false
    const settle = (outcome: Outcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(outcome)
    }
    const req = request({
      host: baseUrl.hostname,
      port: baseUrl.port,
      agent,
      method: r.method,
      path: r.path,
      // Node frames a body by itself only for methods that usually have one: say how, for all of them
      headers: r.body === undefined
        ? r.headers
        : { ...r.headers, ...(r.chunked ? { "transfer-encoding": "chunked" } : { "content-length": String(r.body.length) }) }
    })
    const timer = setTimeout(() => {
      settle({ _tag: "Hang", afterMillis: deadlineMillis })
      req.destroy()
    }, deadlineMillis)
    req.on("error", (e) => settle({ _tag: "ConnectionError", message: e.message }))
    req.on("response", (res) => {
      const status = res.statusCode ?? 0
      const contentType = String(res.headers["content-type"] ?? "")
      if (contentType.startsWith("text/event-stream")) {
        // an open stream: its status and headers are the answer; closing it must release it server-side
        settle({ _tag: "Response", status, headers: res.headers, body: "" })
        res.destroy()
        return
      }
      const chunks: Array<Buffer> = []
      let kept = 0
      res.on("data", (chunk: Buffer) => {
        if (status >= 400 && kept < maxKeptBody) {
          chunks.push(chunk)
          kept += chunk.length
        }
      })
      res.on("end", () => settle({ _tag: "Response", status, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }))
      res.on("error", (e) => settle({ _tag: "ConnectionError", message: `while reading the response: ${e.message}` }))
    })
    if (r.body !== undefined && r.chunked) {
      // in two chunks, so that a body is never whole in one read
      const half = Math.floor(r.body.length / 2)
      req.write(r.body.subarray(0, half))
      req.end(r.body.subarray(half))
    } else req.end(r.body)
  })

/** The statuses of the README's error table and the `error` each carries. */
const errorOfStatus: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  413: "PayloadTooLarge",
  503: "Unavailable"
}

/** Why `outcome` breaks the README's promises for `r`, or undefined when it keeps them. */
export const violation = (r: FuzzRequest, outcome: Outcome): string | undefined => {
  if (outcome._tag === "Hang") return `no response within ${outcome.afterMillis} ms (a hang)`
  if (outcome._tag === "ConnectionError") return `no response: ${outcome.message}`
  const { body, headers, status } = outcome
  if (status >= 500) return `status ${status} (a 5xx): ${body.slice(0, 500)}`
  if (r.expect !== undefined && !r.expect.includes(status)) return `status ${status}, the README says ${r.expect.join(" or ")}: ${body.slice(0, 500)}`
  if (status < 400) return undefined
  if (status === 401 && headers["www-authenticate"] === undefined) return "401 without www-authenticate"
  if (status === 405 && headers["allow"] === undefined) return "405 without allow"
  if (status === 429 && headers["retry-after"] === undefined) return "429 without retry-after"
  if (r.method === "HEAD") return undefined
  if (!String(headers["content-type"] ?? "").startsWith("application/json")) {
    return `${status} with content-type ${headers["content-type"]}, not JSON: ${JSON.stringify(body.slice(0, 200))}`
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return `${status} with a body that is not JSON: ${JSON.stringify(body.slice(0, 200))}`
  }
  const { error, reason } = (parsed ?? {}) as { error?: unknown; reason?: unknown }
  if (typeof error !== "string" || typeof reason !== "string") return `${status} without string error and reason: ${body.slice(0, 300)}`
  const expectedError = errorOfStatus[status]
  if (expectedError !== undefined && error !== expectedError) return `${status} with error ${error}, expected ${expectedError}`
  return undefined
}

/** A request as a failure message shows it: bodies and long values cut short. */
export const describeRequest = (r: FuzzRequest): string => {
  const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s)
  const headers = Object.entries(r.headers).map(([k, v]) => `  ${k}: ${cut(v, 200)}`).join("\n")
  const body = r.body === undefined
    ? "(no body)"
    : `${r.body.length} bytes${r.chunked ? ", chunked" : ""}: ${cut(JSON.stringify(r.body.toString("latin1")), 400)}`
  return `${r.method} ${cut(r.path, 300)}\n${headers}\n  body ${body}\n  expected ${r.expect?.join(" or ") ?? "any status below 500"}`
}

const key = new TextEncoder().encode(devJwtSecret)
const seconds = () => Math.floor(Date.now() / 1000)
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")

/** Another character at position `at` of `s` (a base64url character stays one). */
const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === "A" ? "B" : "A") + s.slice(at + 1)

/** The tokens of the fuzz test: valid ones from `signToken` and the dev secret, and every kind the server must refuse. */
export const fuzzTokens = async (): Promise<FuzzTokens> => {
  const own = await token({ sellerId: ownSeller })
  const [header, payload, signature] = own.split(".") as [string, string, string]
  const hs256 = (claims: Record<string, unknown>, secret = key, alg = "HS256") =>
    new SignJWT(claims).setProtectedHeader({ alg, typ: "JWT" }).sign(secret)
  const later = seconds() + 3600
  return {
    own,
    other: await token({ sellerId: otherSeller }),
    service: await token({ role: "service" }),
    invalid: [
      await hs256({ sellerId: ownSeller, iat: seconds() - 7200, exp: seconds() - 3600 }), // expired
      `${b64({ alg: "none", typ: "JWT" })}.${b64({ sellerId: ownSeller, role: "service", exp: later })}.`, // alg none
      `${header}.${b64({ sellerId: ownSeller, role: "service", exp: later })}.${signature}`, // claims tampered
      `${header}.${payload}.${flip(signature, 10)}`, // signature tampered
      await hs256({ sellerId: ownSeller, exp: later }, new TextEncoder().encode("another-secret-that-is-long-enough-32")), // other key
      await hs256({ sellerId: ownSeller, exp: later }, key, "HS512"), // another algorithm
      await hs256({ sellerId: ownSeller }), // no exp
      await hs256({ sellerId: ownSeller, exp: later, nbf: later - 60 }), // not yet valid
      await hs256({ sellerId: "bad-id!", exp: later }), // claims that do not decode
      await hs256({ sellerId: 42, exp: later }),
      await hs256({ role: "admin", exp: later }),
      await hs256({ sellerId: ownSeller, exp: "tomorrow" })
    ]
  }
}
