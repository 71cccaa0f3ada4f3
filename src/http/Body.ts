import type { HttpServerRequest } from "@effect/platform"
import { Effect } from "effect"
import { IncomingMessage } from "node:http"
import { BadRequest, PayloadTooLarge } from "./Problem.js"

const tooLarge = (maxBytes: number) => new PayloadTooLarge({ reason: `request body exceeds ${maxBytes} bytes` })

/**
 * A request body as UTF-8 text (400 when it is not), at most `maxBytes`, however it is sent
 * (Content-Length or chunked).
 * On Node, a body over the limit is drained and discarded, never destroyed: the client reads the
 * 413 instead of a connection reset, and the request's fiber is not interrupted.
 */
export const readText = (request: HttpServerRequest.HttpServerRequest, maxBytes: number) => {
  const source = request.source
  if (source instanceof IncomingMessage) return readNodeText(source, maxBytes)
  if (Number(request.headers["content-length"] ?? "0") > maxBytes) return Effect.fail(tooLarge(maxBytes))
  return request.text.pipe(
    Effect.mapError(() => new BadRequest({ reason: "could not read the request body" })),
    Effect.filterOrFail((text) => Buffer.byteLength(text) <= maxBytes, () => tooLarge(maxBytes))
  )
}

/** `readText` on Node's own request. */
const readNodeText = (source: IncomingMessage, maxBytes: number) => {
  if (Number(source.headers["content-length"] ?? "0") > maxBytes) {
    return Effect.zipRight(Effect.sync(() => source.resume()), Effect.fail(tooLarge(maxBytes)))
  }
  return Effect.async<string, PayloadTooLarge | BadRequest>((resume) => {
    const chunks: Array<Buffer> = []
    let size = 0
    const cleanup = () => {
      source.off("data", onData)
      source.off("end", onEnd)
      source.off("error", onError)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= maxBytes) return void chunks.push(chunk)
      cleanup()
      source.resume()
      resume(Effect.fail(tooLarge(maxBytes)))
    }
    const onEnd = () => {
      cleanup()
      resume(decodeUtf8(Buffer.concat(chunks, size)))
    }
    const onError = () => {
      cleanup()
      resume(Effect.fail(new BadRequest({ reason: "could not read the request body" })))
    }
    source.on("data", onData)
    source.on("end", onEnd)
    source.on("error", onError)
    return Effect.sync(cleanup)
  })
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/** Bytes that are not UTF-8 are refused, never stored with replacement characters in place of what was sent. */
const decodeUtf8 = (bytes: Uint8Array): Effect.Effect<string, BadRequest> => {
  try {
    return Effect.succeed(utf8.decode(bytes))
  } catch {
    return Effect.fail(new BadRequest({ reason: "body is not valid UTF-8" }))
  }
}

/**
 * Arrays and objects a JSON body may nest: an event needs 6, a batch 7. Deeper values are refused
 * before anything walks them recursively (schema error messages print the offending value).
 */
export const maxJsonDepth = 32

/** True when JSON `text` opens more than `limit` arrays and objects inside each other (strings skipped). */
export const nestsDeeperThan = (text: string, limit: number): boolean => {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 34) {
      // A string: skip to its closing quote, the one not escaped by an odd run of backslashes (indexOf
      // skips the text of an event, mostly strings, far faster than a loop over its characters).
      let end = text.indexOf("\"", i + 1)
      while (end > 0) {
        let backslashes = 0
        while (text.charCodeAt(end - 1 - backslashes) === 92) backslashes++
        if (backslashes % 2 === 0) break
        end = text.indexOf("\"", end + 1)
      }
      if (end < 0) return false
      i = end
    } else if (c === 91 || c === 123) {
      if (++depth > limit) return true
    } else if (c === 93 || c === 125) depth--
  }
  return false
}

/** JSON text parsed: 400 when it is not JSON, or nests too deep. */
export const parseJson = (text: string): Effect.Effect<unknown, BadRequest> => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return Effect.fail(new BadRequest({ reason: `body is not JSON: ${(e as Error).message}` }))
  }
  return nestsDeeperThan(text, maxJsonDepth)
    ? Effect.fail(new BadRequest({ reason: `body nests arrays and objects deeper than ${maxJsonDepth} levels` }))
    : Effect.succeed(value)
}

/** The request's body parsed as JSON: 400 when it is not (or nests too deep), 413 when it is too large. */
export const readJson = (request: HttpServerRequest.HttpServerRequest, maxBytes: number) =>
  Effect.flatMap(readText(request, maxBytes), parseJson)

/** `readJson` on Node's own request. */
export const readNodeJson = (source: IncomingMessage, maxBytes: number) => Effect.flatMap(readNodeText(source, maxBytes), parseJson)
