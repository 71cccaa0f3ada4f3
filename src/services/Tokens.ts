import { Config, ConfigError, Data, Effect, Option, Redacted, Schema } from "effect"
import { errors, jwtVerify, type JWTVerifyGetKey, SignJWT } from "jose"
import { Claims, type Role } from "../domain/HttpApi.js"

/** Used when `AUTH_JWT_SECRET` is unset: fine on a laptop, never in production. */
export const devJwtSecret = "product-events-dev-secret-change-me"

/** HS256 wants a key of at least 256 bits (RFC 7518 3.2): 32 characters. */
export const minSecretLength = 32

/**
 * The HS256 secret: env `AUTH_JWT_SECRET` (at least {@link minSecretLength} characters, else the
 * program refuses to start, naming the variable), or {@link devJwtSecret} with a warning when unset.
 */
export const AuthSecret: Effect.Effect<Redacted.Redacted<string>, ConfigError.ConfigError> = Config.redacted("AUTH_JWT_SECRET").pipe(
  Config.validate({
    message: `AUTH_JWT_SECRET must be at least ${minSecretLength} characters (an HS256 key of 256 bits); unset it to use the dev secret`,
    validation: (secret) => Redacted.value(secret).length >= minSecretLength
  }),
  Config.option,
  Effect.flatMap(Option.match({
    onSome: Effect.succeed,
    onNone: () =>
      Effect.logWarning("AUTH_JWT_SECRET is unset: using the documented dev secret, which anyone can sign tokens with").pipe(
        Effect.as(Redacted.make(devJwtSecret))
      )
  }))
)

/**
 * The secret to sign development tokens with ({@link AuthSecret}), refused while `AUTH_JWKS_URL` is set:
 * the services then verify with the identity provider's keys only, and would refuse every token signed here.
 */
export const SigningSecret: Effect.Effect<Redacted.Redacted<string>, ConfigError.ConfigError> = Config.string("AUTH_JWKS_URL").pipe(
  Config.option,
  Effect.flatMap(Option.match({
    onNone: () => AuthSecret,
    onSome: () =>
      Effect.fail(ConfigError.InvalidData(
        ["AUTH_JWKS_URL"],
        "AUTH_JWKS_URL is set: the services verify tokens with the identity provider's keys and refuse HS256 tokens signed here; " +
          "mint tokens with the identity provider, or unset AUTH_JWKS_URL (development) to sign with AUTH_JWT_SECRET"
      ))
  }))
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
  reason: Schema.Literal("malformed", "expired", "signature", "claims", "algorithm", "key"),
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

/**
 * The signing keys could not be fetched (`AUTH_JWKS_URL` unreachable, slow, or serving something that is
 * not a key set): says nothing about the token, so it is never a 401; the HTTP edge answers 503.
 */
export class SigningKeysUnavailable extends Data.TaggedError("SigningKeysUnavailable")<{ readonly cause: unknown }> {}

const describe = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error)
  // fetch's "fetch failed" says why in its cause (ECONNREFUSED, ...).
  return error.cause === undefined ? error.message : `${error.message} (${describe(error.cause)})`
}

/** Thrown by a key lookup (inside jose) when the keys cannot be had; becomes {@link SigningKeysUnavailable}. */
export class KeysUnreachable extends Error {
  constructor(what: string, cause: unknown) {
    super(`${what}: ${describe(cause)}`)
  }
}

const reasonOf = (error: unknown): InvalidToken["reason"] => {
  if (error instanceof errors.JWTExpired) return "expired"
  if (error instanceof errors.JWSSignatureVerificationFailed) return "signature"
  if (error instanceof errors.JWTClaimValidationFailed) return "claims"
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return "algorithm"
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return "key"
  return "malformed"
}

const decodeClaims = Schema.decodeUnknown(Claims, { errors: "all" })

export interface VerifyOptions {
  /** The `alg` values accepted: always explicit, so that `none` and algorithm confusion cannot get in. */
  readonly algorithms: ReadonlyArray<string>
  /** When set, the token's `iss` must be this. */
  readonly issuer?: string | undefined
  /** When set, the token's `aud` must be (or contain) this. */
  readonly audience?: string | undefined
}

/**
 * Verifies signature (with `key`, or the key `key` finds for the token's header), `exp` (required) and
 * `nbf`, the issuer and audience when asked, then decodes the claims: the one verification both modes
 * (HS256 secret, JWKS) go through.
 */
export const verifyWith = (
  key: Uint8Array | JWTVerifyGetKey,
  options: VerifyOptions,
  token: string
): Effect.Effect<Claims, InvalidToken | SigningKeysUnavailable> =>
  Effect.tryPromise({
    try: () => {
      const checks = {
        algorithms: [...options.algorithms],
        requiredClaims: ["exp"],
        ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
        ...(options.audience === undefined ? {} : { audience: options.audience })
      }
      return typeof key === "function" ? jwtVerify(token, key, checks) : jwtVerify(token, key, checks)
    },
    catch: (error) =>
      error instanceof KeysUnreachable
        ? new SigningKeysUnavailable({ cause: error.message })
        : new InvalidToken({ reason: reasonOf(error), detail: error instanceof Error ? error.message : String(error) })
  }).pipe(
    Effect.flatMap(({ payload }) =>
      decodeClaims(payload).pipe(
        Effect.mapError((error) => new InvalidToken({ reason: "claims", detail: error.message }))
      )
    ),
    Effect.withSpan("Tokens.verify")
  )

/** Verifies an HS256 token signed with `secret` (see {@link verifyWith}). */
export const verifyToken = (
  secret: Redacted.Redacted<string>,
  token: string
): Effect.Effect<Claims, InvalidToken> =>
  verifyWith(keyOf(secret), { algorithms: ["HS256"] }, token).pipe(
    // A secret is in hand: there are no keys to fetch.
    Effect.catchTag("SigningKeysUnavailable", Effect.die)
  )
