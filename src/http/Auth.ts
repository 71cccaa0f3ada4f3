import { Headers, HttpServerRequest } from "@effect/platform"
import { Effect, Option } from "effect"
import { decodeJwt } from "jose"
import { AuthSecret, type Claims, verifyToken } from "../services/Tokens.js"
import { Forbidden, Unauthorized } from "./Problem.js"

const bearer = /^Bearer\s+(\S+)$/i

/** Verified tokens remembered (until their `exp`): SSE clients reconnect with the same token, often. */
const cacheCapacity = 50_000

/**
 * Verifies the request's JWT: `Authorization: Bearer <JWT>`, or `?access_token=` where
 * `allowQueryToken` (browsers' EventSource cannot set headers).
 */
export class Auth extends Effect.Service<Auth>()("product-events/Auth", {
  effect: Effect.gen(function*() {
    const secret = yield* AuthSecret
    const verified = new Map<string, { readonly claims: Claims; readonly expiresAt: number }>()

    /** As `verifyToken`, answered from memory for a token verified before that has not expired since. */
    const verify = (token: string) =>
      Effect.suspend(() => {
        const known = verified.get(token)
        if (known !== undefined && known.expiresAt > Date.now()) return Effect.succeed(known.claims)
        verified.delete(token)
        return Effect.tap(verifyToken(secret, token), (claims) =>
          Effect.sync(() => {
            if (verified.size >= cacheCapacity) verified.delete(verified.keys().next().value!)
            // verifyToken requires exp, and jose compares it with Date.now() as well.
            verified.set(token, { claims, expiresAt: decodeJwt(token).exp! * 1000 })
          }))
      })

    /** The claims of a request's credentials: its Authorization header, or (where allowed) `?access_token=`. */
    const fromCredentials = (header: Option.Option<string>, url: string, allowQueryToken: boolean) =>
      Effect.gen(function*() {
        const token = Option.isSome(header)
          ? Option.fromNullable(bearer.exec(header.value)?.[1])
          : allowQueryToken
          ? Option.fromNullable(new URL(url, "http://localhost").searchParams.get("access_token"))
          : Option.none()
        if (Option.isNone(token)) {
          return yield* new Unauthorized({
            reason: Option.isSome(header) ? "Authorization header is not 'Bearer <token>'" : "missing bearer token"
          })
        }
        return yield* verify(token.value).pipe(
          Effect.mapError((e) => new Unauthorized({ reason: `invalid token: ${e.reason}` }))
        )
      })

    const claims = (allowQueryToken: boolean) =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
        fromCredentials(Headers.get(request.headers, "authorization"), request.url, allowQueryToken))

    /** Who the caller is: 401 unless the request carries a valid token. */
    const authenticate = (options?: { readonly allowQueryToken?: boolean }) =>
      claims(options?.allowQueryToken ?? false).pipe(Effect.withSpan("Auth.authenticate"))

    const sellerOnly = (sellerId: string) => (c: Claims) =>
      c.sellerId === sellerId
        ? Effect.succeed(c)
        : Effect.fail(new Forbidden({ reason: `token does not grant access to seller ${sellerId}` }))

    /** The caller may read this seller's data: its token names that seller. */
    const requireSeller = (sellerId: string, options?: { readonly allowQueryToken?: boolean }) =>
      Effect.flatMap(authenticate(options), sellerOnly(sellerId))

    /** As `requireSeller`, from a Node request's authorization header and URL (for routes served outside the router). */
    const requireSellerOf = (sellerId: string, authorization: string | undefined, url: string) =>
      Effect.flatMap(fromCredentials(Option.fromNullable(authorization), url, true), sellerOnly(sellerId))

    return { authenticate, requireSeller, requireSellerOf } as const
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
