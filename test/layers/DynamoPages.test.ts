import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, TestClock } from "effect"
import { sendInPages } from "../../src/layers/Dynamo.js"

/** `sendInPages`, the paging and unprocessed-item retries of the DynamoDB batch requests, with a fake request. */
describe("Dynamo.sendInPages", () => {
  const items = Array.from({ length: 60 }, (_, i) => i)

  it.effect("sends pages of the given size, and sends again what a request left unprocessed", () =>
    Effect.gen(function*() {
      const requests: Array<ReadonlyArray<number>> = []
      const fiber = yield* Effect.fork(sendInPages(items, 25, 2, (message) => message, (page) =>
        Effect.sync(() => {
          requests.push(page)
          // A full page leaves its last 5 items unprocessed.
          return page.length === 25 ? page.slice(-5) : []
        })))
      yield* TestClock.adjust("50 millis")
      expect(Exit.isSuccess(yield* Fiber.await(fiber))).toBe(true)
      expect([...requests].sort((a, b) => a[0]! - b[0]!))
        .toEqual([items.slice(0, 25), items.slice(20, 25), items.slice(25, 50), items.slice(45, 50), items.slice(50)])
    }))

  it.effect("fails once items stay unprocessed after 4 requests, backing off 50, 100, 200 ms", () =>
    Effect.gen(function*() {
      let requests = 0
      const fiber = yield* Effect.fork(sendInPages(items.slice(0, 10), 25, 1, (message) => message, (page) =>
        Effect.sync(() => {
          requests++
          return page.slice(0, 1)
        })))
      yield* TestClock.adjust("149 millis")
      expect(requests).toBe(2)
      yield* TestClock.adjust("1 milli")
      expect(requests).toBe(3)
      yield* TestClock.adjust("200 millis")
      expect(yield* Fiber.await(fiber)).toEqual(Exit.fail("1 of 10 items unprocessed after 4 requests"))
    }))
})
