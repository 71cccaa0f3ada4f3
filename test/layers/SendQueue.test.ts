import { describe, expect, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Fiber, TestClock } from "effect"
import * as SendQueue from "../../src/layers/kafka/SendQueue.js"

/**
 * The Kafka layer's send queue against a broker stand-in that records each send and answers when the
 * test says: base offsets per partition as Kafka assigns them (the next offset of the partition).
 */
const broker = () => {
  const sends: Array<{
    readonly topicMessages: Array<{ topic: string; messages: Array<SendQueue.RoutedMessage> }>
    readonly ack: () => void
    /** Answers the send with this result instead of the one Kafka would give. */
    readonly answer: (result: SendQueue.SendAck) => void
    readonly fail: (cause: unknown) => void
  }> = []
  const ends = new Map<string, number>()
  const send: SendQueue.Send = (topicMessages) =>
    new Promise((resolve, reject) => {
      const ack = () => {
        const result: Array<{ topicName: string; partition: number; baseOffset: string }> = []
        for (const { messages, topic } of topicMessages) {
          const counts = new Map<number, number>()
          for (const { partition } of messages) counts.set(partition, (counts.get(partition) ?? 0) + 1)
          for (const [partition, count] of counts) {
            const key = `${topic}/${partition}`
            const base = ends.get(key) ?? 0
            ends.set(key, base + count)
            result.push({ topicName: topic, partition, baseOffset: String(base) })
          }
        }
        resolve(result)
      }
      sends.push({ topicMessages, ack, answer: resolve, fail: reject })
    })
  return { send, sends }
}

const message = (value: string, partition: number): SendQueue.RoutedMessage => ({ key: value, value, partition })
const values = (topicMessages: Array<{ topic: string; messages: Array<SendQueue.RoutedMessage> }>) =>
  topicMessages.map(({ messages, topic }) => `${topic}: ${messages.map((m) => m.value).join(" ")}`)

const limits = { maxBytes: 1_000_000, maxMessages: 1_000 }

/** A produce's failure as its caller sees it (an `EventLogError`'s message), or its positions. */
const outcome = (fiber: Fiber.RuntimeFiber<ReadonlyArray<SendQueue.Position>, unknown>) =>
  Effect.map(Fiber.await(fiber), (exit) => Exit.isSuccess(exit) ? exit.value : (Cause.squash(exit.cause) as Error).message)

describe("SendQueue (Kafka produces, one send in flight)", () => {
  it.effect("sends at once when idle; produces made meanwhile go together in the next send, in the order they came", () =>
    Effect.gen(function*() {
      const { send, sends } = broker()
      const queue = SendQueue.make(send, limits)
      const first = yield* Effect.fork(queue.produce("t", [message("a1", 0), message("a2", 1)], 2))
      yield* Effect.yieldNow()
      expect(sends).toHaveLength(1)
      const second = yield* Effect.fork(queue.produce("t", [message("b1", 1), message("b2", 0)], 2))
      const third = yield* Effect.fork(queue.produce("u", [message("c1", 0)], 1))
      const fourth = yield* Effect.fork(queue.produce("t", [message("d1", 1)], 1))
      yield* Effect.yieldNow()
      expect(sends).toHaveLength(1)
      sends[0]!.ack()
      expect(yield* Fiber.join(first)).toEqual([{ partition: 0, offset: 0 }, { partition: 1, offset: 0 }])
      expect(sends).toHaveLength(2)
      expect(values(sends[1]!.topicMessages)).toEqual(["t: b1 b2 d1", "u: c1"])
      sends[1]!.ack()
      // Each produce's own positions, after those of the produces before it in the same send.
      expect(yield* Fiber.join(second)).toEqual([{ partition: 1, offset: 1 }, { partition: 0, offset: 1 }])
      expect(yield* Fiber.join(third)).toEqual([{ partition: 0, offset: 0 }])
      expect(yield* Fiber.join(fourth)).toEqual([{ partition: 1, offset: 2 }])
    }))

  it.effect("a failed send fails every produce in it, and the queue goes on", () =>
    Effect.gen(function*() {
      const { send, sends } = broker()
      const queue = SendQueue.make(send, limits)
      const first = yield* Effect.fork(queue.produce("t", [message("a", 0)], 1))
      yield* Effect.yieldNow()
      const second = yield* Effect.fork(queue.produce("t", [message("b", 0)], 1))
      const third = yield* Effect.fork(queue.produce("t", [message("c", 0)], 1))
      yield* Effect.yieldNow()
      sends[0]!.ack()
      yield* Fiber.join(first)
      sends[1]!.fail(new Error("broker gone"))
      expect(yield* Effect.forEach([second, third], outcome)).toEqual([
        "event log produce failed: broker gone",
        "event log produce failed: broker gone"
      ])
      const fourth = yield* Effect.fork(queue.produce("t", [message("d", 0)], 1))
      yield* Effect.yieldNow()
      expect(sends).toHaveLength(3)
      sends[2]!.ack()
      expect(yield* Fiber.join(fourth)).toEqual([{ partition: 0, offset: 1 }])
    }))

  it.effect("a send takes waiting produces up to the byte and message limits, the first one whatever its size", () =>
    Effect.gen(function*() {
      const { send, sends } = broker()
      const queue = SendQueue.make(send, { ...limits, maxBytes: 100, maxMessages: 3 })
      const fibers = [
        yield* Effect.fork(queue.produce("t", [message("a", 0)], 10)),
        yield* Effect.fork(queue.produce("t", [message("big", 0)], 500)),
        yield* Effect.fork(queue.produce("t", [message("b1", 0), message("b2", 0)], 20)),
        yield* Effect.fork(queue.produce("t", [message("c", 0)], 20)),
        yield* Effect.fork(queue.produce("t", [message("d", 0)], 70)),
        yield* Effect.fork(queue.produce("t", [message("e", 0)], 20))
      ]
      yield* Effect.yieldNow()
      for (let i = 0; i < 4; i++) {
        yield* Effect.yieldNow()
        sends[i]!.ack()
        yield* Effect.yieldNow()
      }
      yield* Effect.forEach(fibers, Fiber.join)
      // "big" alone; then b1 b2 c (three messages); then d and e would be 90 bytes, under 100.
      expect(sends.map((s) => values(s.topicMessages))).toEqual([["t: a"], ["t: big"], ["t: b1 b2 c"], ["t: d e"]])
    }))

  it.effect("a produce whose caller gives up while it waits is never sent", () =>
    Effect.gen(function*() {
      const { send, sends } = broker()
      const queue = SendQueue.make(send, limits)
      const first = yield* Effect.fork(queue.produce("t", [message("a", 0)], 1))
      yield* Effect.yieldNow()
      const abandoned = yield* Effect.fork(queue.produce("t", [message("b", 0)], 1))
      const kept = yield* Effect.fork(queue.produce("t", [message("c", 0)], 1))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(abandoned)
      sends[0]!.ack()
      yield* Fiber.join(first)
      expect(values(sends[1]!.topicMessages)).toEqual(["t: c"])
      sends[1]!.ack()
      expect(yield* Fiber.join(kept)).toEqual([{ partition: 0, offset: 1 }])
    }))

  it.effect("when every caller of the send in flight gave up, the next send starts without waiting for it", () =>
    Effect.gen(function*() {
      const { send, sends } = broker()
      const queue = SendQueue.make(send, limits)
      const stuck = yield* Effect.fork(queue.produce("t", [message("a", 0)], 1))
      yield* Effect.yieldNow()
      const next = yield* Effect.fork(queue.produce("t", [message("b", 0)], 1))
      yield* Effect.yieldNow()
      expect(sends).toHaveLength(1)
      yield* Fiber.interrupt(stuck)
      expect(sends).toHaveLength(2)
      expect(values(sends[1]!.topicMessages)).toEqual(["t: b"])
      sends[1]!.ack()
      expect(yield* Fiber.join(next)).toEqual([{ partition: 0, offset: 0 }])
      // The abandoned send completing later changes nothing for the queue.
      sends[0]!.ack()
      const after = yield* Effect.fork(queue.produce("t", [message("c", 0)], 1))
      yield* Effect.yieldNow()
      expect(sends).toHaveLength(3)
      sends[2]!.ack()
      expect(yield* Fiber.join(after)).toEqual([{ partition: 0, offset: 2 }])
    }))

  it.effect("a caller's deadline (as the gateway's): still waiting, its produce is never sent; in flight, the next send starts once the whole send gave up", () =>
    Effect.gen(function*() {
      const { send, sends } = broker()
      const queue = SendQueue.make(send, limits)
      const within = (seconds: number, topic: string, value: string) =>
        queue.produce(topic, [message(value, 0)], 1).pipe(
          Effect.timeoutFail({ duration: Duration.seconds(seconds), onTimeout: () => new Error(`${value}: not acknowledged within ${seconds}s`) })
        )
      const failedWith = (fiber: Fiber.RuntimeFiber<unknown, unknown>) =>
        Effect.map(Fiber.await(fiber), (exit) => Exit.isFailure(exit) ? String(Cause.squash(exit.cause)) : "succeeded")
      const a = yield* Effect.fork(within(2, "t", "a"))
      yield* Effect.yieldNow()
      const b = yield* Effect.fork(within(1, "t", "b"))
      const c = yield* Effect.fork(within(3, "t", "c"))
      yield* Effect.yieldNow()
      // b's time is up while it waits: it fails and leaves the queue.
      yield* TestClock.adjust("1 second")
      expect(yield* failedWith(b)).toContain("b: not acknowledged within 1s")
      expect(sends).toHaveLength(1)
      // a's time is up in flight: it fails, and c goes out without waiting for a's send (kafkajs may still deliver it).
      yield* TestClock.adjust("1 second")
      expect(yield* failedWith(a)).toContain("a: not acknowledged within 2s")
      expect(sends.map((s) => values(s.topicMessages))).toEqual([["t: a"], ["t: c"]])
      sends[1]!.ack()
      expect(yield* Fiber.join(c)).toEqual([{ partition: 0, offset: 0 }])
      // a's send acknowledged late: nobody waits for it, and the queue goes on.
      sends[0]!.ack()
      const d = yield* Effect.fork(queue.produce("t", [message("d", 0)], 1))
      yield* Effect.yieldNow()
      sends[2]!.ack()
      expect(yield* Fiber.join(d)).toEqual([{ partition: 0, offset: 2 }])
    }))

  it.effect("produces to two topics go out in one send, each topic's partitions counted on their own", () =>
    Effect.gen(function*() {
      const { send, sends } = broker()
      const queue = SendQueue.make(send, limits)
      const first = yield* Effect.fork(queue.produce("t", [message("a", 0)], 1))
      yield* Effect.yieldNow()
      const fibers = [
        yield* Effect.fork(queue.produce("t", [message("t1", 0), message("t2", 1)], 2)),
        yield* Effect.fork(queue.produce("u", [message("u1", 1), message("u2", 0), message("u3", 1)], 3)),
        yield* Effect.fork(queue.produce("t", [message("t3", 1)], 1)),
        yield* Effect.fork(queue.produce("u", [message("u4", 0)], 1))
      ]
      yield* Effect.yieldNow()
      sends[0]!.ack()
      yield* Fiber.join(first)
      expect(sends).toHaveLength(2)
      expect(values(sends[1]!.topicMessages)).toEqual(["t: t1 t2 t3", "u: u1 u2 u3 u4"])
      sends[1]!.ack()
      expect(yield* Effect.forEach(fibers, Fiber.join)).toEqual([
        [{ partition: 0, offset: 1 }, { partition: 1, offset: 0 }],
        [{ partition: 1, offset: 0 }, { partition: 0, offset: 0 }, { partition: 1, offset: 1 }],
        [{ partition: 1, offset: 1 }],
        [{ partition: 0, offset: 1 }]
      ])
    }))

  it.effect("a send answered without a base offset for a partition fails the produces with messages there; the others get theirs", () =>
    Effect.gen(function*() {
      const { send, sends } = broker()
      const queue = SendQueue.make(send, limits)
      const first = yield* Effect.fork(queue.produce("t", [message("a", 0)], 1))
      yield* Effect.yieldNow()
      const onT = yield* Effect.fork(queue.produce("t", [message("t1", 0)], 1))
      const across = yield* Effect.fork(queue.produce("u", [message("u1", 0), message("u2", 1)], 2))
      const onU0 = yield* Effect.fork(queue.produce("u", [message("u3", 0)], 1))
      const onU1 = yield* Effect.fork(queue.produce("u", [message("u4", 1)], 1))
      yield* Effect.yieldNow()
      sends[0]!.ack()
      yield* Fiber.join(first)
      // u/1 missing; u/0 as older brokers answer, with `offset` and no `baseOffset`.
      sends[1]!.answer([{ topicName: "t", partition: 0, baseOffset: "10" }, { topicName: "u", partition: 0, offset: "20" }])
      expect(yield* outcome(onT)).toEqual([{ partition: 0, offset: 10 }])
      expect(yield* outcome(across)).toBe("event log produce failed: no base offset for u/1")
      // After u1 at 20: the send put u3 at 21.
      expect(yield* outcome(onU0)).toEqual([{ partition: 0, offset: 21 }])
      expect(yield* outcome(onU1)).toBe("event log produce failed: no base offset for u/1")
      // The queue goes on.
      const after = yield* Effect.fork(queue.produce("u", [message("u5", 1)], 1))
      yield* Effect.yieldNow()
      expect(sends).toHaveLength(3)
      sends[2]!.ack()
      expect(yield* outcome(after)).toEqual([{ partition: 1, offset: 0 }])
    }))

  it.effect("a send that throws instead of returning a promise fails every produce in it, and the queue goes on", () =>
    Effect.gen(function*() {
      const { send, sends } = broker()
      let calls = 0
      const throwing: SendQueue.Send = (topicMessages) => {
        calls++
        if (calls === 1 || calls === 3) throw new Error(`client bug ${calls}`)
        return send(topicMessages)
      }
      const queue = SendQueue.make(throwing, limits)
      // Thrown by the send an idle queue starts at once, inside the produce.
      const alone = yield* Effect.fork(queue.produce("t", [message("a", 0)], 1))
      expect(yield* outcome(alone)).toBe("event log produce failed: client bug 1")
      const second = yield* Effect.fork(queue.produce("t", [message("b", 0)], 1))
      yield* Effect.yieldNow()
      expect(calls).toBe(2)
      // Thrown by the send that merges what waited meanwhile.
      const merged = [
        yield* Effect.fork(queue.produce("t", [message("c", 0)], 1)),
        yield* Effect.fork(queue.produce("u", [message("d", 0)], 1))
      ]
      yield* Effect.yieldNow()
      sends[0]!.ack()
      expect(yield* outcome(second)).toEqual([{ partition: 0, offset: 0 }])
      expect(yield* Effect.forEach(merged, outcome)).toEqual(["event log produce failed: client bug 3", "event log produce failed: client bug 3"])
      const after = yield* Effect.fork(queue.produce("t", [message("e", 0)], 1))
      yield* Effect.yieldNow()
      expect(values(sends[1]!.topicMessages)).toEqual(["t: e"])
      sends[1]!.ack()
      expect(yield* outcome(after)).toEqual([{ partition: 0, offset: 1 }])
    }))
})
