// The seller token: read from the page's fragment (`#token=<jwt>`, never sent to a server) and its claims
// decoded here, only to know which seller to show. The server verifies the token on every request.

const sellerIdPattern = /^[A-Za-z0-9_]{1,64}$/

/** The token of a fragment such as `#token=eyJ...`, or null. */
export const tokenFromHash = (hash) => {
  const token = new URLSearchParams(hash.replace(/^#/, "")).get("token")
  return token === null || token.trim() === "" ? null : token.trim()
}

const base64UrlText = (part) => {
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=")
  return new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)))
}

/**
 * `{ sellerId, exp }` of a seller token (exp in epoch seconds, or undefined), or `{ error }` saying
 * why the token cannot open a seller's dashboard.
 */
export const decodeToken = (token) => {
  const parts = token.split(".")
  if (parts.length !== 3) return { error: "This is not a token: a JWT has three parts separated by dots." }
  let claims
  try {
    claims = JSON.parse(base64UrlText(parts[1]))
  } catch {
    return { error: "This token's payload is not readable JSON: was it copied whole?" }
  }
  if (typeof claims !== "object" || claims === null) return { error: "This token's payload is not a set of claims." }
  if (typeof claims.sellerId !== "string" || !sellerIdPattern.test(claims.sellerId)) {
    return {
      error: claims.role === "service"
        ? "This is a service token: the dashboard needs a seller's token (npx product-events token <sellerId>)."
        : "This token names no seller (claim sellerId): mint one with npx product-events token <sellerId>."
    }
  }
  return { sellerId: claims.sellerId, exp: typeof claims.exp === "number" ? claims.exp : undefined }
}

/** A token is valid before its `exp`, not at it (as the server judges it). */
export const isExpired = (claims, nowMillis) => claims.exp !== undefined && claims.exp * 1000 <= nowMillis
