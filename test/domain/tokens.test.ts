import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Redacted } from "effect"
import { SignJWT } from "jose"
import { AuthSecret, devJwtSecret, signToken, verifyToken } from "../../src/services/Tokens.js"

const secret = Redacted.make("test-secret-of-some-length")
const rawSign = (payload: Record<string, unknown>, exp: number) =>
  Effect.promise(() =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(Redacted.value(secret)))
  )
const nowSeconds = () => Math.floor(Date.now() / 1000)

describe("Tokens", () => {
  it.effect("round-trips a seller token", () =>
    Effect.gen(function*() {
      const token = yield* signToken(secret, { sellerId: "s1", role: "seller" })
      const claims = yield* verifyToken(secret, token)
      expect(claims).toEqual({ sellerId: "s1", role: "seller", exp: expect.any(Number) })
      // 12 hours by default: an open stream ends then.
      expect(claims.exp! - nowSeconds()).toBeGreaterThan(12 * 3600 - 10)
      expect(claims.exp! - nowSeconds()).toBeLessThanOrEqual(12 * 3600)
    }))

  it.effect("round-trips a service token without a seller", () =>
    Effect.gen(function*() {
      const token = yield* signToken(secret, { role: "service" }, { expiresIn: "5m" })
      expect(yield* verifyToken(secret, token)).toEqual({ role: "service", exp: expect.any(Number) })
    }))

  it.effect("rejects a token signed with another secret", () =>
    Effect.gen(function*() {
      const token = yield* signToken(Redacted.make("another-secret"), { sellerId: "s1" })
      const error = yield* Effect.flip(verifyToken(secret, token))
      expect(error._tag).toBe("InvalidToken")
      expect(error.reason).toBe("signature")
    }))

  it.effect("rejects an expired token", () =>
    Effect.gen(function*() {
      const token = yield* rawSign({ sellerId: "s1" }, nowSeconds() - 3600)
      const error = yield* Effect.flip(verifyToken(secret, token))
      expect(error.reason).toBe("expired")
    }))

  it.effect("rejects a token that never expires", () =>
    Effect.gen(function*() {
      const token = yield* Effect.promise(() =>
        new SignJWT({ sellerId: "s1" }).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(Redacted.value(secret)))
      )
      const error = yield* Effect.flip(verifyToken(secret, token))
      expect(error.reason).toBe("claims")
      expect(error.detail).toMatch(/"exp"/)
    }))

  it.effect("rejects malformed tokens", () =>
    Effect.gen(function*() {
      for (const token of ["", "not-a-jwt", "a.b.c"]) {
        const error = yield* Effect.flip(verifyToken(secret, token))
        expect(error.reason).toBe("malformed")
      }
    }))

  it.effect("rejects an unsecured token (alg: none)", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(verifyToken(secret, "eyJhbGciOiJub25lIn0.eyJzZWxsZXJJZCI6InMxIn0."))
      expect(error.reason).toBe("algorithm")
    }))

  it.effect("rejects claims that do not decode", () =>
    Effect.gen(function*() {
      for (const payload of [{ sellerId: "a-b" }, { sellerId: 42 }, { role: "admin" }]) {
        const token = yield* rawSign(payload, nowSeconds() + 3600)
        const error = yield* Effect.flip(verifyToken(secret, token))
        expect(error.reason).toBe("claims")
        expect(error.message).toContain("invalid token (claims)")
      }
    }))

  it.effect("reads AUTH_JWT_SECRET, with a documented dev default", () =>
    Effect.gen(function*() {
      const fromEnv = yield* AuthSecret.pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["AUTH_JWT_SECRET", "from-env-0123456789abcdef0123456789"]])))
      )
      const fallback = yield* AuthSecret.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map())))
      expect(Redacted.value(fromEnv)).toBe("from-env-0123456789abcdef0123456789")
      expect(Redacted.value(fallback)).toBe(devJwtSecret)
    }))
})
