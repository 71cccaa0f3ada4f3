import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { baseMillis, created, encode } from "../support/events.js"
import { startEmbedded, token } from "../support/embedded.js"
import { hs256With, makeKey, type SigningKey, signWith, startJwksServer, unsecured } from "../support/jwks.js"
import { openSse } from "../support/sse.js"

/**
 * The embedded program configured for production auth (`AUTH_JWKS_URL`, `AUTH_ISSUER`, `AUTH_AUDIENCE`),
 * over HTTP: a token of the identity provider's key is served, anything else is 401, on the router's
 * routes and on the stream served ahead of it; a key set that cannot be fetched is 503 with `retry-after`.
 */
const issuer = "https://id.example"
const audience = "product-events"
let key: SigningKey
let stranger: SigningKey
let jwks: Awaited<ReturnType<typeof startJwksServer>>
let app: Awaited<ReturnType<typeof startEmbedded>>

beforeAll(async () => {
  ;[key, stranger] = await Promise.all([makeKey("ES256", "prod-1"), makeKey("ES256", "prod-1")])
  jwks = await startJwksServer([key])
  // A secret too short to start with: not read once a key set is configured.
  app = await startEmbedded({ AUTH_JWKS_URL: jwks.url, AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience, AUTH_JWT_SECRET: "short" }, { listener: true })
})
afterAll(async () => {
  await app?.dispose()
  await jwks?.close()
})

const good = (claims: Record<string, unknown>) => signWith(key, { iss: issuer, aud: audience, ...claims })

describe("AUTH_JWKS_URL over HTTP", () => {
  it("200 with a token of the set's key; 401 with another key's, alg none, HS256 (public key or dev secret), a wrong audience", async () => {
    const list = (bearer: string) => fetch(`${app.baseUrl}/sellers/jw_s1/notifications`, { headers: { authorization: `Bearer ${bearer}` } })
    const ok = await list(await good({ sellerId: "jw_s1" }))
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ items: [], nextCursor: null })

    for (const bad of [
      await signWith(stranger, { iss: issuer, aud: audience, sellerId: "jw_s1" }),
      unsecured({ iss: issuer, aud: audience, sellerId: "jw_s1" }),
      await hs256With(key.publicPem, { iss: issuer, aud: audience, sellerId: "jw_s1" }, key.kid),
      await token({ sellerId: "jw_s1" }),
      await good({ sellerId: "jw_s1", aud: "another-service" })
    ]) {
      const refused = await list(bad)
      expect(refused.status).toBe(401)
      expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer/)
      expect(await refused.json()).toMatchObject({ error: "Unauthorized", reason: expect.stringMatching(/^invalid token: /) })
    }
  })

  it("the stream (served ahead of the router) and POST /events verify the same way", async () => {
    const url = `${app.baseUrl}/sellers/jw_s2/notifications/stream`
    const stream = await openSse(`${url}?access_token=${await good({ sellerId: "jw_s2" })}`)
    expect(stream.status).toBe(200)
    stream.close()
    expect((await fetch(`${url}?access_token=${await signWith(stranger, { iss: issuer, aud: audience, sellerId: "jw_s2" })}`)).status).toBe(401)

    const post = async (bearer: string) =>
      (await fetch(`${app.baseUrl}/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
        body: JSON.stringify(encode(created("jw_s2", "p1", baseMillis)))
      })).status
    expect(await post(await good({ role: "service" }))).toBe(202)
    expect(await post(await token({ role: "service" }))).toBe(401)
  })

  it("a key set that cannot be fetched: 503 with retry-after and a reason, never 401", async () => {
    const down = await startJwksServer([key])
    const outage = await startEmbedded({ AUTH_JWKS_URL: down.url }, { listener: true })
    try {
      down.fail(503)
      const bearer = await signWith(key, { sellerId: "jw_s3" })
      for (const response of [
        await fetch(`${outage.baseUrl}/sellers/jw_s3/notifications`, { headers: { authorization: `Bearer ${bearer}` } }),
        await fetch(`${outage.baseUrl}/sellers/jw_s3/notifications/stream?access_token=${bearer}`)
      ]) {
        expect(response.status).toBe(503)
        expect(response.headers.get("retry-after")).toMatch(/^[1-9]\d*$/)
        expect(await response.json()).toMatchObject({ error: "Unavailable", reason: expect.any(String) })
      }
      // Back: served again (the failed fetch was not cached).
      down.fail(undefined)
      expect((await fetch(`${outage.baseUrl}/sellers/jw_s3/notifications`, { headers: { authorization: `Bearer ${bearer}` } })).status).toBe(200)
    } finally {
      await outage.dispose()
      await down.close()
    }
  })
})
