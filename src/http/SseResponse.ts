import { Effect } from "effect"
import type { ServerResponse } from "node:http"
import { Readable } from "node:stream"
import { frameBytes, retryFrame, tokenExpiredFrame } from "../domain/SseFrame.js"
import type { Sink } from "../services/hub/Subscriber.js"
import { heartbeatBytes, type StreamLimitReached } from "../services/NotificationHub.js"
import { TooManyRequests } from "./Problem.js"

/** Waits until the response drains or `closing` closes, whichever comes first. */
const drainOrClose = (response: ServerResponse, closing: NodeJS.EventEmitter) =>
  Effect.async<void>((resume) => {
    const done = () => {
      response.off("drain", done)
      closing.off("close", done)
      resume(Effect.void)
    }
    response.on("drain", done)
    closing.on("close", done)
    return Effect.sync(() => {
      response.off("drain", done)
      closing.off("close", done)
    })
  })


const tokenExpiredBytes = frameBytes(tokenExpiredFrame)

/** A seller's streams at their limit, as the answer: 429 with `retry-after` (both ways of serving the stream). */
export const tooManyStreams = (e: StreamLimitReached) =>
  Effect.fail(
    new TooManyRequests({
      reason: `seller ${e.sellerId} has ${e.limit} notification streams open on this server, its limit; retry after one ends`,
      retryAfterSeconds: e.retryAfterSeconds
    })
  )

export const sseHeaders = {
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
  connection: "keep-alive"
}

/**
 * An SSE response body the hub writes to in plain code: a Readable the server pipes to Node's response
 * (so the request's fiber holds nothing of the stream while it waits), starting with the reconnection
 * delay hint. A pushed frame goes straight to the socket when it takes it; what it does not take
 * stays in the Readable, and past `maxBuffered` bytes the client counts as too slow.
 */
export const sseBody = (response: ServerResponse, retryMillis: number, maxBuffered: number) => {
  const body = new Readable({ read() {} })
  body.push(frameBytes(retryFrame(retryMillis)))
  const sink: Sink = {
    write: (frame) => {
      body.push(frame.bytes)
    },
    heartbeat: () => {
      body.push(heartbeatBytes)
    },
    full: () => body.readableLength + response.writableLength > maxBuffered,
    whenWritable: Effect.suspend(() =>
      body.readableLength < body.readableHighWaterMark || body.destroyed
        ? Effect.void
        : drainOrClose(response, body)
    ),
    end: () => {
      body.push(null)
    },
    expire: () => {
      body.push(tokenExpiredBytes)
      body.push(null)
    }
  }
  return { body, sink }
}

/**
 * An SSE response written straight to Node's response, for the stream served ahead of the router:
 * frames written before `start` (status and headers) wait in order. The body is close-delimited
 * (`connection: close`, as HTTP/1.1 allows a response without length or chunking): a stream is the
 * connection's last response anyway, and its frames go out as they are. `maxBuffered`: bytes the client
 * may leave unread beyond what the socket holds before it counts as too slow.
 */
export const responseSink = (
  response: ServerResponse,
  retryMillis: number,
  maxBuffered: number,
  headers: Record<string, string> = {}
) => {
  let early: Array<Uint8Array> | undefined = []
  const write = (bytes: Uint8Array) => {
    if (early === undefined) response.write(bytes)
    else early.push(bytes)
  }
  const start = () => {
    if (early === undefined) return
    // The body runs until the connection closes (no chunk framing): each frame is one socket write
    // of the bytes every subscriber shares, not three (chunk size, frame, CRLF).
    response.useChunkedEncodingByDefault = false
    response.writeHead(200, { "content-type": "text/event-stream", ...sseHeaders, connection: "close", ...headers })
    response.write(frameBytes(retryFrame(retryMillis)))
    for (const bytes of early) response.write(bytes)
    early = undefined
  }
  const sink: Sink = {
    write: (frame) => write(frame.bytes),
    heartbeat: () => write(heartbeatBytes),
    full: () => response.writableLength > maxBuffered,
    whenWritable: Effect.suspend(() =>
      !response.writableNeedDrain || response.destroyed
        ? Effect.void
        : drainOrClose(response, response)
    ),
    end: () => {
      start()
      response.end()
    },
    expire: () => {
      start()
      response.end(tokenExpiredBytes)
    }
  }
  return { sink, start }
}
