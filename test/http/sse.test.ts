import { describe, expect, it } from "@effect/vitest"
import { StoredNotification } from "../../src/domain/Notification.js"
import { toNotification } from "../../src/domain/Notify.js"
import { redactUrl } from "../../src/http/AccessLog.js"
import { notificationFrame } from "../../src/domain/SseFrame.js"
import { baseMillis, lowStock } from "../support/events.js"

const stored = StoredNotification.make({ ...toNotification(lowStock("s1", "p1", baseMillis)), seq: 1 })

describe("SSE frame", () => {
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
