import { ConfigProvider, Effect, Either, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { signToken } from "../../src/services/Tokens.js"
import { makeTokenVerifier, type TokenVerifier } from "../../src/services/TokenVerifier.js"
import { hs256With, makeKey, type SigningKey, signWith, startJwksServer, unsecured } from "../support/jwks.js"

/**
 * Verification against a JSON Web Key Set served on a loopback port, as an identity provider publishes
 * it: only tokens signed by one of its keys pass; `alg: none`, HS256 (whatever its secret, the public
 * key's bytes included) and keys not in the set are refused; a key published later is picked up.
 */
let rsa: SigningKey
let ec: SigningKey
let ed: SigningKey
let stranger: SigningKey
let jwks: Awaited<ReturnType<typeof startJwksServer>>

beforeAll(async () => {
  ;[rsa, ec, ed, stranger] = await Promise.all([
    makeKey("RS256", "rsa-1"),
    makeKey("ES256", "ec-1"),
    makeKey("EdDSA", "ed-1"),
    makeKey("RS256", "rsa-1") // the same kid as `rsa`, another key: a forger who read the kid
  ])
  jwks = await startJwksServer([rsa, ec, ed])
})
afterAll(() => jwks?.close())

const verifierWith = (config: Record<string, string>) =>
  Effect.runPromise(makeTokenVerifier.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(config))))))

const outcome = (verify: TokenVerifier, token: string) =>
  Effect.runPromise(Effect.either(verify(token))).then(Either.match({
    onLeft: (error) => (error._tag === "InvalidToken" ? `refused: ${error.reason}` : error._tag),
    onRight: (claims) => claims
  }))

describe("tokens verified against AUTH_JWKS_URL", () => {
  it("accepts a token signed by a key of the set (RS256, ES256, EdDSA), whatever AUTH_JWT_SECRET is", async () => {
    const verify = await verifierWith({ AUTH_JWKS_URL: jwks.url, AUTH_JWT_SECRET: "short" })
    for (const key of [rsa, ec, ed]) {
      expect(await outcome(verify, await signWith(key, { sellerId: "s1" }))).toEqual({ sellerId: "s1", exp: expect.any(Number) })
    }
    expect(await outcome(verify, await signWith(rsa, { role: "service" }))).toEqual({ role: "service", exp: expect.any(Number) })
  })

  it("refuses a token signed by another key, under the set's kid or one it lacks", async () => {
    const verify = await verifierWith({ AUTH_JWKS_URL: jwks.url })
    expect(await outcome(verify, await signWith(stranger, { sellerId: "s1" }))).toBe("refused: signature")
    expect(await outcome(verify, await signWith(stranger, { sellerId: "s1" }, { kid: "nobody" }))).toBe("refused: key")
  })

  it("refuses alg: none, and HS256 whatever its secret: the public key as PEM or JWK JSON, the dev secret", async () => {
    const verify = await verifierWith({ AUTH_JWKS_URL: jwks.url })
    expect(await outcome(verify, unsecured({ sellerId: "s1" }))).toBe("refused: algorithm")
    for (const key of [rsa, ec, ed]) {
      expect(await outcome(verify, await hs256With(key.publicPem, { sellerId: "s1" }, key.kid))).toBe("refused: algorithm")
      expect(await outcome(verify, await hs256With(JSON.stringify(key.publicJwk), { sellerId: "s1" }, key.kid))).toBe("refused: algorithm")
    }
    // A shared secret does not verify once a key set is configured, even the one the program was given.
    const secret = "a-shared-secret-of-at-least-32-characters"
    const verifyWithBoth = await verifierWith({ AUTH_JWKS_URL: jwks.url, AUTH_JWT_SECRET: secret })
    const hs256 = await Effect.runPromise(signToken(Redacted.make(secret), { sellerId: "s1" }))
    expect(await outcome(verifyWithBoth, hs256)).toBe("refused: algorithm")
  })

  it("checks AUTH_ISSUER and AUTH_AUDIENCE when set", async () => {
    const verify = await verifierWith({ AUTH_JWKS_URL: jwks.url, AUTH_ISSUER: "https://id.example", AUTH_AUDIENCE: "product-events" })
    const sign = (claims: Record<string, unknown>) => signWith(ec, { sellerId: "s1", ...claims })
    expect(await outcome(verify, await sign({ iss: "https://id.example", aud: "product-events" }))).toMatchObject({ sellerId: "s1" })
    expect(await outcome(verify, await sign({ iss: "https://id.example", aud: ["other", "product-events"] }))).toMatchObject({ sellerId: "s1" })
    expect(await outcome(verify, await sign({ iss: "https://evil.example", aud: "product-events" }))).toBe("refused: claims")
    expect(await outcome(verify, await sign({ iss: "https://id.example", aud: "another-service" }))).toBe("refused: claims")
    expect(await outcome(verify, await sign({ aud: "product-events" }))).toBe("refused: claims")
    expect(await outcome(verify, await sign({ iss: "https://id.example" }))).toBe("refused: claims")
  })

  it("checks AUTH_ISSUER and AUTH_AUDIENCE with HS256 too", async () => {
    const secret = "a-shared-secret-of-at-least-32-characters"
    const verify = await verifierWith({ AUTH_JWT_SECRET: secret, AUTH_ISSUER: "dev", AUTH_AUDIENCE: "product-events" })
    const sign = (claims: Record<string, unknown>) => hs256With(secret, { sellerId: "s1", ...claims })
    expect(await outcome(verify, await sign({ iss: "dev", aud: "product-events" }))).toMatchObject({ sellerId: "s1" })
    expect(await outcome(verify, await sign({ iss: "dev" }))).toBe("refused: claims")
    expect(await outcome(verify, await sign({ iss: "prod", aud: "product-events" }))).toBe("refused: claims")
  })

  it("picks up a key published later (rotation): an unknown kid fetches the set again, at most once per cooldown", async () => {
    const rotating = await startJwksServer([rsa])
    vi.useFakeTimers({ toFake: ["Date"] })
    try {
      const verify = await verifierWith({ AUTH_JWKS_URL: rotating.url })
      expect(await outcome(verify, await signWith(rsa, { sellerId: "s1" }))).toMatchObject({ sellerId: "s1" })
      expect(await outcome(verify, await signWith(rsa, { sellerId: "s2" }))).toMatchObject({ sellerId: "s2" })
      expect(rotating.requests()).toBe(1) // cached

      const next = await makeKey("ES256", "ec-2")
      rotating.publish([rsa, next])
      // Within jose's cooldown (30 s) after a fetch, an unknown kid does not fetch again: refused.
      expect(await outcome(verify, await signWith(next, { sellerId: "s1" }))).toBe("refused: key")
      expect(rotating.requests()).toBe(1)

      vi.setSystemTime(Date.now() + 31_000)
      expect(await outcome(verify, await signWith(next, { sellerId: "s1" }))).toMatchObject({ sellerId: "s1" })
      expect(rotating.requests()).toBe(2)
      // Both keys are good until the old one is removed from the set.
      expect(await outcome(verify, await signWith(rsa, { sellerId: "s1" }))).toMatchObject({ sellerId: "s1" })

      rotating.publish([next])
      vi.setSystemTime(Date.now() + 11 * 60_000) // past the cache's 10 minutes
      expect(await outcome(verify, await signWith(rsa, { sellerId: "s1" }, { expiresIn: "1h" }))).toBe("refused: key")
      expect(await outcome(verify, await signWith(next, { sellerId: "s1" }, { expiresIn: "1h" }))).toMatchObject({ sellerId: "s1" })
    } finally {
      vi.useRealTimers()
      await rotating.close()
    }
  })

  it("a key set that cannot be fetched is SigningKeysUnavailable, never a refused token", async () => {
    const down = await startJwksServer([rsa])
    const token = await signWith(rsa, { sellerId: "s1" })
    try {
      down.fail(500)
      expect(await outcome(await verifierWith({ AUTH_JWKS_URL: down.url }), token)).toBe("SigningKeysUnavailable")
      down.fail(undefined)
      expect(await outcome(await verifierWith({ AUTH_JWKS_URL: down.url }), token)).toMatchObject({ sellerId: "s1" })
    } finally {
      await down.close()
    }
    // Nothing listens there any more.
    expect(await outcome(await verifierWith({ AUTH_JWKS_URL: down.url }), token)).toBe("SigningKeysUnavailable")
  })

  it("refuses an AUTH_JWKS_URL that is not an http(s) URL, naming it", async () => {
    for (const url of ["not a url", "ftp://id.example/jwks.json", ""]) {
      const error = await verifierWith({ AUTH_JWKS_URL: url }).then(() => undefined, (e: unknown) => String(e))
      expect(error).toContain("AUTH_JWKS_URL")
    }
  })
})
