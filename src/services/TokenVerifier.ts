import { Config, type ConfigError, Effect, Option, Redacted } from "effect"
import { createRemoteJWKSet, errors, type JWTVerifyGetKey } from "jose"
import type { Claims } from "../domain/HttpApi.js"
import { AuthSecret, type InvalidToken, KeysUnreachable, type SigningKeysUnavailable, verifyWith } from "./Tokens.js"

/**
 * What a key from `AUTH_JWKS_URL` may sign with. No HS* among them: with a key set, a shared secret
 * must not verify, and an HS256 token "signed" with a public key's bytes (algorithm confusion) is
 * refused before any key is looked up.
 */
export const jwksAlgorithms = ["RS256", "ES256", "EdDSA"] as const

/** Verifies a bearer token: its claims, or why it is refused (or that the keys cannot be had). */
export type TokenVerifier = (token: string) => Effect.Effect<Claims, InvalidToken | SigningKeysUnavailable>

const httpUrl = (name: string) =>
  Config.url(name).pipe(
    Config.validate({
      message: `${name} must be the http(s) URL of a JSON Web Key Set`,
      validation: (url) => url.protocol === "https:" || url.protocol === "http:"
    })
  )

/**
 * `AUTH_JWKS_URL` (production: verify with the identity provider's published keys), and the optional
 * `AUTH_ISSUER` / `AUTH_AUDIENCE` that every token must then carry, whichever the mode.
 */
export const VerificationConfig = Config.all({
  jwksUrl: Config.option(httpUrl("AUTH_JWKS_URL")),
  issuer: Config.option(Config.nonEmptyString("AUTH_ISSUER")),
  audience: Config.option(Config.nonEmptyString("AUTH_AUDIENCE"))
})

/**
 * The keys of a JWKS endpoint through jose's remote set: fetched on first use and cached (10 min),
 * fetched again for a `kid` the cache lacks (at most once per 30 s cooldown), each fetch bounded by 5 s.
 * A token whose key is not in the set is the token's fault (401); any other failure happened while
 * fetching or reading the set, and says nothing about the token (503).
 */
export const remoteKeys = (url: URL): JWTVerifyGetKey => {
  const keys = createRemoteJWKSet(url)
  return async (header, token) => {
    try {
      return await keys(header, token)
    } catch (error) {
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported
      ) throw error
      throw new KeysUnreachable(`the signing keys of ${url.href} cannot be fetched`, error)
    }
  }
}

/**
 * The process's token verification, from configuration. With `AUTH_JWKS_URL`: RS256, ES256 or EdDSA
 * tokens signed by a key of that set, and `AUTH_JWT_SECRET` is neither required nor used. Without it:
 * HS256 with `AUTH_JWT_SECRET` (development and tests). The issuer and audience are checked in both
 * modes when set.
 */
export const makeTokenVerifier: Effect.Effect<TokenVerifier, ConfigError.ConfigError> = Effect.gen(function*() {
  const { audience, issuer, jwksUrl } = yield* VerificationConfig
  const checks = { issuer: Option.getOrUndefined(issuer), audience: Option.getOrUndefined(audience) }
  if (Option.isSome(jwksUrl)) {
    const keys = remoteKeys(jwksUrl.value)
    const options = { algorithms: jwksAlgorithms, ...checks }
    yield* Effect.logInfo(`verifying tokens with the keys of AUTH_JWKS_URL (${jwksAlgorithms.join(", ")}); AUTH_JWT_SECRET is not used`)
    return (token) => verifyWith(keys, options, token)
  }
  const key = new TextEncoder().encode(Redacted.value(yield* AuthSecret))
  const options = { algorithms: ["HS256"], ...checks }
  return (token) => verifyWith(key, options, token)
})
