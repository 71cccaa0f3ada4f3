import { Effect } from "effect"
import type { ServerResponse } from "node:http"
import { frameBytes, retryFrame } from "../domain/SseFrame.js"
import type { Sink } from "../services/hub/Subscriber.js"
import { heartbeatBytes } from "../services/NotificationHub.js"

const sseHeaders = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
  connection: "keep-alive"
}

/**
 * An SSE response written straight to Node's response: the hub writes the shared frame bytes in plain
 * code, with no stream or fiber per connection in between. `maxBuffered`: bytes the client may leave
 * unread (beyond what the socket holds) before its response is ended.
 */
export const responseSink = (response: ServerResponse, maxBuffered: number): Sink => ({
  write: (frame) => {
    response.write(frame.bytes)
  },
  heartbeat: () => {
    response.write(heartbeatBytes)
  },
  full: () => response.writableLength > maxBuffered,
  whenWritable: Effect.suspend(() =>
    !response.writableNeedDrain || response.destroyed
      ? Effect.void
      : Effect.async<void>((resume) => {
        const done = () => {
          response.off("drain", done)
          response.off("close", done)
          resume(Effect.void)
        }
        response.on("drain", done)
        response.on("close", done)
        return Effect.sync(() => {
          response.off("drain", done)
          response.off("close", done)
        })
      })
  ),
  end: () => {
    response.end()
  }
})

/** The status line, headers and the reconnection delay hint: sent once the subscription is open. */
export const openResponse = (response: ServerResponse, retryMillis: number) =>
  Effect.sync(() => {
    response.writeHead(200, sseHeaders)
    response.write(frameBytes(retryFrame(retryMillis)))
  })
