import { connect } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { maxJsonDepth } from "../../src/http/Body.js"
import { baseMillis, created, encode } from "../support/events.js"
import { startEmbedded, token } from "../support/embedded.js"

/**
 * The requests the fuzz test (http-fuzz.test.ts) found answered with a 5xx or without the API's JSON
 * error, each now answered as the README says, on the router and on the programs' own listener.
 */
const servers: Record<string, Awaited<ReturnType<typeof startEmbedded>>> = {}
beforeAll(async () => {
  servers["router"] = await startEmbedded()
  servers["listener"] = await startEmbedded({}, { listener: true })
})
afterAll(() => Promise.all(Object.values(servers).map((s) => s.dispose())))

/**
 * Writes `requests` (raw HTTP/1.1) on one connection, each once the server answered the one before (no
 * pipelining); everything the server wrote until it closed.
 */
const raw = (baseUrl: string, ...requests: ReadonlyArray<string | Buffer>) =>
  new Promise<string>((resolve, reject) => {
    const socket = connect(Number(new URL(baseUrl).port), "127.0.0.1")
    let received = ""
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`the connection stayed open; received so far: ${JSON.stringify(received)}`))
    }, 5000)
    const rest = [...requests]
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1")
      const next = rest.shift()
      if (next !== undefined) socket.write(next)
    })
    socket.on("close", () => {
      clearTimeout(timer)
      resolve(received)
    })
    socket.on("error", reject)
    socket.write(rest.shift()!)
  })

/** The responses in what a connection received: status and body of each. */
const responses = (received: string) =>
  received.split(/(?=HTTP\/1\.1 \d{3} )/).filter((r) => r.length > 0).map((response) => {
    const [head, body = ""] = response.split("\r\n\r\n", 2)
    return { status: Number(head!.slice(9, 12)), head: head!.toLowerCase(), body }
  })

describe.each(["router", "listener"])("requests the fuzz test found (%s)", (name) => {
  it("HEAD on the stream answers its headers and holds no stream: more HEADs than a seller's streams leave a GET its slot", async () => {
    const app = servers[name]!
    const sellerId = `head_${name}`
    const bearer = await token({ sellerId })
    const head = `HEAD /sellers/${sellerId}/notifications/stream?access_token=${bearer} HTTP/1.1\r\nhost: a\r\n\r\n`
    // Kept-alive connections, each with a HEAD answered: a subscription opened for one would last as long.
    const held = await Promise.all(Array.from({ length: 25 }, () =>
      new Promise<{ socket: ReturnType<typeof connect>; answer: string }>((resolve, reject) => {
        const socket = connect(Number(new URL(app.baseUrl).port), "127.0.0.1")
        let answer = ""
        socket.on("data", (chunk: Buffer) => {
          answer += chunk.toString("latin1")
          if (answer.includes("\r\n\r\n")) resolve({ socket, answer })
        })
        socket.on("error", reject)
        socket.write(head)
      })))
    try {
      for (const { answer } of held) {
        expect(answer).toMatch(/^HTTP\/1\.1 200 /)
        expect(answer.toLowerCase()).toContain("content-type: text/event-stream")
      }
      const stream = new AbortController()
      const response = await fetch(`${app.baseUrl}/sellers/${sellerId}/notifications/stream`, {
        headers: { authorization: `Bearer ${bearer}` },
        signal: stream.signal
      })
      expect(response.status).toBe(200)
      stream.abort()
    } finally {
      for (const { socket } of held) socket.destroy()
    }
  })

  it("a request target that is no URL (`//`, `/\\/`, an absolute URL that does not parse) is a 404, not a 500", async () => {
    const app = servers[name]!
    for (const target of ["//", "///x", "/\\/", "//..%2f..%2fetc%2fpasswd", "http://evil.example%zz"]) {
      for (const method of ["GET", "POST", "OPTIONS"]) {
        const [response] = responses(await raw(app.baseUrl, `${method} ${target} HTTP/1.1\r\nhost: a\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`))
        expect(response?.status, `${method} ${target}`).toBe(404)
        expect(JSON.parse(response!.body)).toEqual({ error: "NotFound", reason: "no such route" })
      }
    }
  })

  it(`a body nested deeper than ${maxJsonDepth} levels is a 400 saying so, however deep, wherever in the event`, async () => {
    const app = servers[name]!
    const serviceToken = await token({ role: "service" })
    const event = JSON.stringify(encode(created("fuzz_s", "deep", baseMillis)))
    const post = async (body: string) => {
      const response = await fetch(`${app.baseUrl}/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${serviceToken}` },
        body
      })
      return { status: response.status, reason: ((await response.json()) as { reason: string }).reason }
    }
    const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth)
    expect(await post(nested(maxJsonDepth))).toEqual({ status: 400, reason: "invalid events: nothing was published" })
    const tooDeep = { status: 400, reason: `body nests arrays and objects deeper than ${maxJsonDepth} levels` }
    expect(await post(nested(maxJsonDepth + 1))).toEqual(tooDeep)
    for (const depth of [3000, 30_000]) {
      for (const body of [nested(depth), event.replace(/"name":"[^"]*"/, `"name":${nested(depth)}`), event.replace(/"data":/, `"extra":${nested(depth)},"data":`)]) {
        expect(await post(body), `depth ${depth}: ${body.slice(0, 60)}`).toEqual(tooDeep)
      }
    }
    expect((await post(event)).status).toBe(202)
  })

  it("a body that is not UTF-8 is a 400, not stored with replacement characters", async () => {
    const app = servers[name]!
    const event = Buffer.from(JSON.stringify(encode(created("fuzz_s", "utf8", baseMillis))))
    const at = event.indexOf("Walnut")
    for (const bad of [[0xc3, 0x28], [0xff, 0xfe], [0xed, 0xa0, 0x80]]) {
      const response = await fetch(`${app.baseUrl}/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${await token({ role: "service" })}` },
        body: Buffer.concat([event.subarray(0, at), Buffer.from(bad), event.subarray(at)])
      })
      expect(response.status).toBe(400)
      expect(await response.json()).toEqual({ error: "BadRequest", reason: "body is not valid UTF-8" })
    }
  })

  it("a currency that is no ISO-4217 code is one issue, not one per code (each repeating the value sent)", async () => {
    const app = servers[name]!
    const event = encode(created("fuzz_s", "money", baseMillis)) as { data: { product: { price: { currency: string } } } }
    event.data.product.price.currency = "x".repeat(50_000)
    const response = await fetch(`${app.baseUrl}/events`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await token({ role: "service" })}` },
      body: JSON.stringify(event)
    })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { errors: unknown }).errors).toEqual([
      { index: 0, path: "data.product.price.currency", message: "must be an ISO-4217 currency code such as EUR" }
    ])
  })
})

describe("requests Node's parser refuses, on the programs' own listener", () => {
  it("a JSON 400 with the parser's reason, also on a connection that already served a request; HEAD gets the headers only", async () => {
    const app = servers["listener"]!
    const ok = "GET /healthz HTTP/1.1\r\nhost: a\r\n\r\n"
    for (
      const [label, bad] of [
        ["raw UTF-8 in the path", Buffer.concat([Buffer.from("GET /sellers/"), Buffer.from("é", "utf8"), Buffer.from(" HTTP/1.1\r\nhost: a\r\n\r\n")])],
        ["a method Node does not know", "FOO /healthz HTTP/1.1\r\nhost: a\r\n\r\n"],
        ["headers over 16 KiB", `GET /healthz HTTP/1.1\r\nhost: a\r\nx-big: ${"x".repeat(20_000)}\r\n\r\n`],
        ["bytes that are no request (as a GET's body sent without Content-Length)", "abcdef\r\n"]
      ] as const
    ) {
      for (const sent of [[bad], [ok, bad]]) {
        const received = responses(await raw(app.baseUrl, ...sent))
        const last = received.at(-1)!
        expect(received.map((r) => r.status), label).toEqual([...(sent.length === 2 ? [200] : []), 400])
        expect(last.head, label).toContain("content-type: application/json")
        expect(JSON.parse(last.body), label).toEqual({ error: "BadRequest", reason: expect.stringMatching(/^malformed request: /) })
      }
    }
    const head = responses(await raw(app.baseUrl, Buffer.concat([Buffer.from("HEAD /"), Buffer.from("é", "utf8"), Buffer.from(" HTTP/1.1\r\nhost: a\r\n\r\n")])))
    expect(head.map((r) => [r.status, r.body])).toEqual([[400, ""]])
  })
})
