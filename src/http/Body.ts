import type { HttpServerRequest } from "@effect/platform"
import { Effect } from "effect"
import { IncomingMessage } from "node:http"
import { BadRequest, PayloadTooLarge } from "./Problem.js"

/**
 * A request body as UTF-8 text (400 when it is not), at most `maxBytes`, however it is sent
 * (Content-Length or chunked).
 * On Node, a body over the limit is drained and discarded, never destroyed: the client reads the
 * 413 instead of a connection reset, and the request's fiber is not interrupted.
 */
export const readText = (request: HttpServerRequest.HttpServerRequest, maxBytes: number) => {
  const tooLarge = new PayloadTooLarge({ reason: `request body exceeds ${maxBytes} bytes` })
  const declared = Number(request.headers["content-length"] ?? "0")
  if (declared > maxBytes) return Effect.fail(tooLarge).pipe(Effect.ensuring(discard(request)))
  const source = request.source
  if (!(source instanceof IncomingMessage)) {
    return request.text.pipe(
      Effect.mapError(() => new BadRequest({ reason: "could not read the request body" })),
      Effect.filterOrFail((text) => Buffer.byteLength(text) <= maxBytes, () => tooLarge)
    )
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
      resume(Effect.fail(tooLarge))
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

/** Lets the rest of a body we will not read flow away (Node's own requests only). */
const discard = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.sync(() => {
    if (request.source instanceof IncomingMessage) request.source.resume()
  })

/**
 * Arrays and objects a JSON body may nest: an event needs 6, a batch 7. Deeper values are refused
 * before anything walks them recursively (schema error messages print the offending value).
 */
export const maxJsonDepth = 32

/** True when JSON `text` opens more than `limit` arrays and objects inside each other (strings skipped). */
export const nestsDeeperThan = (text: string, limit: number): boolean => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // a backslash: skip the character it escapes
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      if (++depth > limit) return true
    } else if (c === 93 || c === 125) depth--
  }
  return false
}

/** The request's body parsed as JSON: 400 when it is not (or nests too deep), 413 when it is too large. */
export const readJson = (request: HttpServerRequest.HttpServerRequest, maxBytes: number) =>
  Effect.flatMap(readText(request, maxBytes), (text) =>
    Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (e) => new BadRequest({ reason: `body is not JSON: ${(e as Error).message}` })
    }).pipe(
      Effect.filterOrFail(
        () => !nestsDeeperThan(text, maxJsonDepth),
        () => new BadRequest({ reason: `body nests arrays and objects deeper than ${maxJsonDepth} levels` })
      )
    ))

