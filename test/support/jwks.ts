import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from "jose"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

/** A signing key pair as an identity provider holds it: the private half signs, the public half is published. */
export interface SigningKey {
  readonly kid: string
  readonly alg: "RS256" | "ES256" | "EdDSA"
  readonly privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"]
  readonly publicJwk: JWK
  /** The public key as PEM (SPKI), what an algorithm-confusion attacker would use as an HS256 secret. */
  readonly publicPem: string
}

export const makeKey = async (alg: SigningKey["alg"], kid: string): Promise<SigningKey> => {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" }, publicPem: await exportSPKI(publicKey) }
}

/** Signs a token with `key`, its `kid` in the header; `claims` may carry `iss`, `aud`. */
export const signWith = (
  key: SigningKey,
  claims: Record<string, unknown>,
  options: { readonly kid?: string; readonly expiresIn?: string } = {}
) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: options.kid ?? key.kid, typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "10m")
    .sign(key.privateKey)

/** An unsecured JWT (`alg: none`, no signature). */
export const unsecured = (claims: Record<string, unknown>) => {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")
  return `${part({ alg: "none", typ: "JWT" })}.${part({ exp: Math.floor(Date.now() / 1000) + 600, ...claims })}.`
}

/** HS256 "signed" with some bytes as the secret: the algorithm-confusion attack with a public key's bytes. */
export const hs256With = (secret: string, claims: Record<string, unknown>, kid?: string) =>
  new SignJWT(claims)
    .setProtectedHeader(kid === undefined ? { alg: "HS256" } : { alg: "HS256", kid })
    .setExpirationTime("10m")
    .sign(new TextEncoder().encode(secret))

/**
 * A JWKS endpoint on a loopback port: serves `{ keys }` of the keys published at the time of the
 * request (`publish` changes them, as a key rotation does), or `status` when it is set (an outage).
 */
export const startJwksServer = async (keys: ReadonlyArray<SigningKey>) => {
  let published = [...keys]
  let failWith: number | undefined
  let requests = 0
  const server = createServer((_, response) => {
    requests++
    if (failWith !== undefined) return void response.writeHead(failWith).end()
    response.writeHead(200, { "content-type": "application/jwk-set+json" })
    response.end(JSON.stringify({ keys: published.map((k) => k.publicJwk) }))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    publish: (next: ReadonlyArray<SigningKey>) => void (published = [...next]),
    fail: (status: number | undefined) => void (failWith = status),
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
