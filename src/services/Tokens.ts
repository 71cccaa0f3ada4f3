import { Config, Effect, Redacted, Schema } from "effect"
import { errors, jwtVerify, SignJWT } from "jose"
import { Claims, type Role } from "../domain/HttpApi.js"

/** Used when `AUTH_JWT_SECRET` is unset: fine on a laptop, never in production. */
export const devJwtSecret = "product-events-dev-secret-change-me"

/** The HS256 secret: env `AUTH_JWT_SECRET`, or {@link devJwtSecret}. */
export const AuthSecret: Config.Config<Redacted.Redacted<string>> = Config.redacted("AUTH_JWT_SECRET").pipe(
  Config.withDefault(Redacted.make(devJwtSecret))
)

export { Claims, Role } from "../domain/HttpApi.js"

/** A lifetime such as `12h`, `30m`, `7d` or `90 seconds`. */
export const ExpiresIn = Schema.String.pipe(
  Schema.pattern(/^\d+ ?(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w)$/i, {
    message: () => "must be a lifetime such as 30m, 12h or 7d"
  })
)

/** A bearer token that cannot be trusted: the HTTP edge answers 401. */
export class InvalidToken extends Schema.TaggedError<InvalidToken>()("InvalidToken", {
  reason: Schema.Literal("malformed", "expired", "signature", "claims"),
  detail: Schema.String
}) {
  override get message(): string {
    return `invalid token (${this.reason}): ${this.detail}`
  }
}

const keyOf = (secret: Redacted.Redacted<string>): Uint8Array => new TextEncoder().encode(Redacted.value(secret))

/**
 * Signs an HS256 JWT with `iat` and `exp` (default lifetime 12h).
 * An `expiresIn` that is not a lifetime is a defect: validate user input with {@link ExpiresIn}.
 */
export const signToken = (
  secret: Redacted.Redacted<string>,
  claims: { readonly sellerId?: string; readonly role?: Role },
  options?: { readonly expiresIn?: string }
): Effect.Effect<string> =>
  Effect.promise(() =>
    new SignJWT({ ...claims })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuedAt()
      .setExpirationTime(options?.expiresIn ?? "12h")
      .sign(keyOf(secret))
  ).pipe(Effect.withSpan("Tokens.sign"))

const reasonOf = (error: unknown): InvalidToken["reason"] => {
  if (error instanceof errors.JWTExpired) return "expired"
  if (error instanceof errors.JWSSignatureVerificationFailed) return "signature"
  if (error instanceof errors.JWTClaimValidationFailed) return "claims"
  return "malformed"
}

const decodeClaims = Schema.decodeUnknown(Claims, { errors: "all" })

/** Verifies signature (HS256 only), `exp` and `nbf`, then decodes the claims. */
export const verifyToken = (
  secret: Redacted.Redacted<string>,
  token: string
): Effect.Effect<Claims, InvalidToken> =>
  Effect.tryPromise({
    try: () => jwtVerify(token, keyOf(secret), { algorithms: ["HS256"], requiredClaims: ["exp"] }),
    catch: (error) =>
      new InvalidToken({ reason: reasonOf(error), detail: error instanceof Error ? error.message : String(error) })
  }).pipe(
    Effect.flatMap(({ payload }) =>
      decodeClaims(payload).pipe(
        Effect.mapError((error) => new InvalidToken({ reason: "claims", detail: error.message }))
      )
    ),
    Effect.withSpan("Tokens.verify")
  )
