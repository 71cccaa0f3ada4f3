import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Queue, Stream, TestClock } from "effect"
import { StoredNotification } from "../../src/domain/Notification.js"
import { toNotification } from "../../src/domain/Notify.js"
import { redactUrl } from "../../src/http/HttpLive.js"
import { heartbeatFrame, notificationFrame, sseBody } from "../../src/http/Sse.js"
import { baseMillis, lowStock } from "../support/events.js"

const stored = StoredNotification.make({ ...toNotification(lowStock("s1", "p1", baseMillis)), seq: 1 })

describe("SSE body", () => {
  it("frames a notification with its eventId as id and its type as event", () => {
    const frame = notificationFrame(stored)
    const [id, event, data, ...rest] = frame.split("\n")
    expect([id, event]).toEqual([`id: s1-p1-LowStockWarning-${baseMillis}`, "event: LowStockWarning"])
    expect(rest).toEqual(["", ""])
    expect(data!.startsWith("data: ")).toBe(true)
    // The whole notification, every field, as one line of JSON.
    expect(JSON.parse(data!.slice("data: ".length))).toEqual({ ...stored })
    expect(stored).toMatchObject({ severity: "urgent", seq: 1 })
  })

  it.scoped("sends a heartbeat comment every interval while quiet, and none before", () =>
    Effect.gen(function*() {
      const source = yield* Queue.unbounded<StoredNotification>()
      const out = yield* Queue.unbounded<string>()
      yield* sseBody(Stream.fromQueue(source), { heartbeat: "15 seconds", retryMillis: 3000 }).pipe(
        Stream.runForEach((frame) => Queue.offer(out, frame)),
        Effect.forkScoped
      )
      yield* TestClock.adjust(0)
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(out))).toEqual(["retry: 3000\n\n"])

      yield* TestClock.adjust("14999 millis")
      expect(yield* Queue.size(out)).toBe(0)
      yield* TestClock.adjust("1 millis")
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(out))).toEqual([heartbeatFrame])

      yield* Queue.offer(source, stored)
      yield* TestClock.adjust(0)
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(out))).toEqual([notificationFrame(stored)])

      yield* TestClock.adjust("30 seconds")
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(out))).toEqual([heartbeatFrame, heartbeatFrame])
    }))

  it.scoped("ends when the notifications end", () =>
    Effect.gen(function*() {
      const fiber = yield* sseBody(Stream.make(stored), { heartbeat: "1 second", retryMillis: 1000 }).pipe(
        Stream.runCollect,
        Effect.fork
      )
      yield* TestClock.adjust(0)
      const frames = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      expect(frames).toEqual(["retry: 1000\n\n", notificationFrame(stored)])
    }))
})

describe("access log", () => {
  it("never carries an SSE client's access_token", () => {
    expect(redactUrl("/sellers/s1/notifications/stream?access_token=eyJ.abc.def&lastEventId=7")).toBe(
      "/sellers/s1/notifications/stream?access_token=REDACTED&lastEventId=7"
    )
    expect(redactUrl("/x?lastEventId=7&access_token=eyJ.abc")).toBe("/x?lastEventId=7&access_token=REDACTED")
    expect(redactUrl("/sellers/s1/notifications?limit=5")).toBe("/sellers/s1/notifications?limit=5")
  })
})
