import { Effect, Layer, Option, Redacted } from "effect"
import { Authentication, type Claims, StreamAuthentication } from "../domain/HttpApi.js"
import { makeTokenVerifier } from "../services/TokenVerifier.js"
import { dependencyDown, Forbidden, Unauthorized, type Unavailable } from "./Problem.js"

const bearer = /^Bearer\s+(\S+)$/i

/** Verified tokens remembered (until their `exp`): SSE clients reconnect with the same token, often. */
const cacheCapacity = 50_000

/**
 * Verifies JWTs (the keys of `AUTH_JWKS_URL`, or HS256 with `AUTH_JWT_SECRET`: see `TokenVerifier`) and
 * checks what their claims grant. Both ways of serving requests (the API's middleware and the SSE
 * route ahead of the router) verify through `verify`.
 */
export class Auth extends Effect.Service<Auth>()("product-events/Auth", {
  effect: Effect.gen(function*() {
    const verifyToken = yield* makeTokenVerifier
    const verified = new Map<string, { readonly claims: Claims; readonly expiresAt: number }>()

    /**
     * As `verifyToken`, answered from memory for a token verified before that has not expired since.
     * Signing keys that cannot be fetched are a dependency outage (503 with `retry-after`), not a bad token.
     */
    const verify = (token: string): Effect.Effect<Claims, Unauthorized | Unavailable> =>
      Effect.suspend(() => {
        if (token.length === 0) return Effect.fail(new Unauthorized({ reason: "missing bearer token" }))
        const known = verified.get(token)
        if (known !== undefined && known.expiresAt > Date.now()) return Effect.succeed(known.claims)
        verified.delete(token)
        return Effect.tap(verifyToken(token), (claims) =>
          Effect.sync(() => {
            if (verified.size >= cacheCapacity) verified.delete(verified.keys().next().value!)
            // verifyToken requires exp, and jose compares it with Date.now() as well.
            verified.set(token, { claims, expiresAt: claims.exp! * 1000 })
          })).pipe(
            Effect.catchTags({
              InvalidToken: (e) => Effect.fail(new Unauthorized({ reason: `invalid token: ${e.reason}` })),
              SigningKeysUnavailable: (e) => dependencyDown(e)
            })
          )
      })

    /** The claims of an Authorization header, or else (for the stream) of `?access_token=`. */
    const fromCredentials = (authorization: string | undefined, queryToken: Option.Option<string>) => {
      if (authorization === undefined) {
        return Option.isSome(queryToken)
          ? verify(queryToken.value)
          : Effect.fail(new Unauthorized({ reason: "missing bearer token" }))
      }
      const token = bearer.exec(authorization)?.[1]
      return token === undefined
        ? Effect.fail(new Unauthorized({ reason: "Authorization header is not 'Bearer <token>'" }))
        : verify(token)
    }

    /** The caller may read this seller's data: its token names that seller. */
    const requireSeller = (claims: Claims, sellerId: string): Effect.Effect<void, Forbidden> =>
      claims.sellerId === sellerId
        ? Effect.void
        : Effect.fail(new Forbidden({ reason: `token does not grant access to seller ${sellerId}` }))

    return { verify, fromCredentials, requireSeller } as const
  })
}) {}

/** A service token may publish any seller's events; a seller token only its own. */
export const authorizePublisher = (claims: Claims, sellerIds: ReadonlyArray<string>): Effect.Effect<void, Forbidden> => {
  if (claims.role === "service") return Effect.void
  const foreign = sellerIds.find((id) => id !== claims.sellerId)
  return foreign === undefined
    ? Effect.void
    : Effect.fail(new Forbidden({ reason: `token may not publish events of seller ${foreign}` }))
}

/** The API's `Authentication`: `Authorization: Bearer <JWT>`. */
export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.map(Auth, (auth) => Authentication.of({ bearer: (token) => auth.verify(Redacted.value(token)) }))
)

/**
 * The API's `StreamAuthentication`: the query's `access_token` when there is one, else the bearer
 * header (tried in that order: a request with neither hears about the header).
 */
export const StreamAuthenticationLive = Layer.effect(
  StreamAuthentication,
  Effect.map(Auth, (auth) =>
    StreamAuthentication.of({
      accessToken: (token) => {
        const value = Redacted.value(token)
        return value.length === 0 ? Effect.fail(new Unauthorized({ reason: "missing bearer token" })) : auth.verify(value)
      },
      bearer: (token) => auth.verify(Redacted.value(token))
    }))
)

export const AuthLive = Layer.mergeAll(AuthenticationLive, StreamAuthenticationLive).pipe(Layer.provideMerge(Auth.Default))
