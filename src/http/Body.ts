import type { HttpServerRequest } from "@effect/platform"
import { Effect } from "effect"
import { IncomingMessage } from "node:http"
import { BadRequest, PayloadTooLarge } from "./Problem.js"

/**
 * A request body as text, at most `maxBytes`, however it is sent (Content-Length or chunked).
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
      resume(Effect.succeed(Buffer.concat(chunks, size).toString("utf8")))
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

/** Lets the rest of a body we will not read flow away (Node's own requests only). */
const discard = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.sync(() => {
    if (request.source instanceof IncomingMessage) request.source.resume()
  })

/** The request's body parsed as JSON: 400 when it is not, 413 when it is too large. */
export const readJson = (request: HttpServerRequest.HttpServerRequest, maxBytes: number) =>
  Effect.flatMap(readText(request, maxBytes), (text) =>
    Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (e) => new BadRequest({ reason: `body is not JSON: ${(e as Error).message}` })
    }))

