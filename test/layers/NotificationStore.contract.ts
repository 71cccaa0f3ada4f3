import { describe, expect, it } from "@effect/vitest"
import { Array as Arr, Duration, Effect, Exit, type Layer, Option, TestClock } from "effect"
import { defaultNotificationRetention, NotificationStore } from "../../src/services/NotificationStore.js"
import { notificationOf } from "../support/notifications.js"
import { unique } from "../support/unique.js"

/** A seller with notifications 1..count put in order. */
const sellerWith = (count: number) =>
  Effect.gen(function*() {
    const store = yield* NotificationStore
    const sellerId = unique("seller")
    for (let n = 1; n <= count; n++) yield* store.put(notificationOf(sellerId, n))
    return sellerId
  })

const seqs = (page: ReadonlyArray<{ readonly seq: number }>) => page.map((n) => n.seq)

export const notificationStoreContract = <E>(name: string, layer: Layer.Layer<NotificationStore, E>) =>
  describe(name, () => {
    it.layer(layer)((it) => {
      it.effect("the first put stores the notification with the seller's next seq, 1, 2, 3 in put order", () =>
        Effect.gen(function*() {
          const store = yield* NotificationStore
          const sellerId = unique("seller")
          const results = yield* Effect.forEach([1, 2, 3], (n) => store.put(notificationOf(sellerId, n)))
          expect(results.map((r) => r.created)).toEqual([true, true, true])
          expect(seqs(results.map((r) => r.notification))).toEqual([1, 2, 3])
          expect(results[0]!.notification).toMatchObject({ ...notificationOf(sellerId, 1), seq: 1 })
        }))

      it.effect("putMany stores each seller's notifications in the order given, sellers interleaved; a stored id comes back unchanged", () =>
        Effect.gen(function*() {
          const store = yield* NotificationStore
          const a = unique("seller")
          const b = unique("seller")
          yield* store.put(notificationOf(a, 1))
          const batch = [notificationOf(a, 1), notificationOf(b, 1), notificationOf(a, 2), notificationOf(b, 2), notificationOf(a, 3)]
          const results = yield* store.putMany(batch)
          const values = results.map((r) => (r !== undefined && Exit.isSuccess(r) ? r.value : undefined))
          expect(values.map((v) => v?.created)).toEqual([false, true, true, true, true])
          expect(values.map((v) => v?.notification.seq)).toEqual([1, 1, 2, 2, 3])
          expect(values[2]!.notification).toMatchObject({ ...notificationOf(a, 2), seq: 2 })
          expect(seqs(yield* store.list(a, { limit: 10, order: "asc" }))).toEqual([1, 2, 3])
          expect((yield* store.list(b, { limit: 10, order: "asc" })).map((n) => n.id)).toEqual([1, 2].map((n) => notificationOf(b, n).id))
          expect(yield* store.putMany([])).toEqual([])
        }))

      it.effect("putMany: an id given twice is stored once, the repeat answered as a later put; skip stops a seller there, unwritten", () =>
        Effect.gen(function*() {
          const store = yield* NotificationStore
          const a = unique("seller")
          const b = unique("seller")
          const batch = [notificationOf(a, 1), notificationOf(b, 1), notificationOf(b, 1), notificationOf(a, 2), notificationOf(a, 3), notificationOf(b, 2)]
          const results = yield* store.putMany(batch, ["h1", "h1", "h2", "h1", "h1", "h1"], (i) => i === 3)
          expect(results.map((r) => (r !== undefined && Exit.isSuccess(r) ? [r.value.created, r.value.conflict] : r))).toEqual([
            [true, false],
            [true, false],
            [false, true],
            undefined,
            undefined,
            [true, false]
          ])
          expect((yield* store.list(a, { limit: 10, order: "asc" })).map((n) => n.id)).toEqual([notificationOf(a, 1).id])
          expect((yield* store.list(b, { limit: 10, order: "asc" })).map((n) => n.id)).toEqual([1, 2].map((n) => notificationOf(b, n).id))
          // What was skipped is written later, after what was stored.
          const later = yield* store.putMany([notificationOf(a, 2), notificationOf(a, 3)])
          expect(later.every((r) => r !== undefined && Exit.isSuccess(r) && r.value.created)).toBe(true)
          expect((yield* store.list(a, { limit: 10, order: "asc" })).map((n) => n.id)).toEqual([1, 2, 3].map((n) => notificationOf(a, n).id))
        }))

      it.effect("putMany: skip is asked of notifications to be written, not stored ones; after a skip the seller stops, stored ones included", () =>
        Effect.gen(function*() {
          const store = yield* NotificationStore
          const a = unique("seller")
          const b = unique("seller")
          yield* store.put(notificationOf(a, 1))
          yield* store.put(notificationOf(b, 2))
          const asked: Array<number> = []
          const results = yield* store.putMany(
            [notificationOf(a, 1), notificationOf(a, 2), notificationOf(b, 1), notificationOf(b, 2), notificationOf(a, 3)],
            undefined,
            (i) => {
              asked.push(i)
              return i === 2 || i === 4
            }
          )
          expect(results.map((r) => (r !== undefined && Exit.isSuccess(r) ? r.value.created : r))).toEqual([false, true, undefined, undefined, undefined])
          expect([...new Set(asked)].sort()).toEqual([1, 2, 4])
          expect((yield* store.list(a, { limit: 10, order: "asc" })).map((n) => n.id)).toEqual([1, 2].map((n) => notificationOf(a, n).id))
        }))

      it.effect("after forgetDrawnSeqs a seller's seqs go on increasing in put order, gaps allowed", () =>
        Effect.gen(function*() {
          const store = yield* NotificationStore
          const sellerId = unique("seller")
          const first = yield* store.put(notificationOf(sellerId, 1))
          yield* store.forgetDrawnSeqs
          const second = yield* store.put(notificationOf(sellerId, 2))
          yield* store.forgetDrawnSeqs
          const rest = yield* store.putMany([notificationOf(sellerId, 3), notificationOf(sellerId, 4)])
          const restSeqs = rest.map((r) => (r !== undefined && Exit.isSuccess(r) ? r.value.notification.seq : undefined))
          const all = [first.notification.seq, second.notification.seq, ...restSeqs]
          expect(all.every((seq, i) => i === 0 || (seq !== undefined && seq > all[i - 1]!))).toBe(true)
          expect((yield* store.list(sellerId, { limit: 10, order: "asc" })).map((n) => n.id)).toEqual(
            [1, 2, 3, 4].map((n) => notificationOf(sellerId, n).id)
          )
        }))

      it.effect("seqs are per seller", () =>
        Effect.gen(function*() {
          const store = yield* NotificationStore
          const a = unique("seller")
          const b = unique("seller")
          yield* store.put(notificationOf(a, 1))
          yield* store.put(notificationOf(a, 2))
          const first = yield* store.put(notificationOf(b, 1))
          expect(first.notification.seq).toBe(1)
        }))

      it.effect("a put of a stored id with another content hash is a conflict; with the same or none, a redelivery", () =>
        Effect.gen(function*() {
          const store = yield* NotificationStore
          const sellerId = unique("seller")
          const first = yield* store.put(notificationOf(sellerId, 1), "hash-a")
          expect(first).toMatchObject({ created: true, conflict: false })
          expect(yield* store.put(notificationOf(sellerId, 1), "hash-a")).toMatchObject({ created: false, conflict: false })
          expect(yield* store.put(notificationOf(sellerId, 1))).toMatchObject({ created: false, conflict: false })
          const other = yield* store.put(notificationOf(sellerId, 1, { title: "another event" }), "hash-b")
          expect(other).toMatchObject({ created: false, conflict: true })
          expect(other.notification.title).toBe(first.notification.title)
          // batched: the same answers, each by its own hash; a notification stored without a hash never conflicts
          yield* store.put(notificationOf(sellerId, 2))
          const batch = yield* store.putMany(
            [notificationOf(sellerId, 1), notificationOf(sellerId, 1), notificationOf(sellerId, 2), notificationOf(sellerId, 3)],
            ["hash-a", "hash-c", "hash-d", "hash-e"]
          )
          expect(batch.map((r) => r !== undefined && Exit.isSuccess(r) ? [r.value.created, r.value.conflict] : r)).toEqual([
            [false, false],
            [false, true],
            [false, false],
            [true, false]
          ])
          const again = yield* store.putMany([notificationOf(sellerId, 3)], ["hash-x"])
          expect(again[0] !== undefined && Exit.isSuccess(again[0]) && again[0].value.conflict).toBe(true)
          const all = yield* store.list(sellerId, { limit: 10, order: "asc" })
          expect(seqs(all)).toEqual([1, 2, 3])
        }))

      it.effect("a second put of the same id returns the stored notification and changes nothing", () =>
        Effect.gen(function*() {
          const store = yield* NotificationStore
          const sellerId = yield* sellerWith(2)
          const again = yield* store.put(notificationOf(sellerId, 1, { title: "a different title" }))
          expect(again.created).toBe(false)
          expect(again.notification).toMatchObject({ ...notificationOf(sellerId, 1), seq: 1 })
          const all = yield* store.list(sellerId, { limit: 10, order: "asc" })
          expect(seqs(all)).toEqual([1, 2])
          expect(all[0]!.title).toBe("Product p1 listed")
          const next = yield* store.put(notificationOf(sellerId, 3))
          expect(next.notification.seq).toBeGreaterThan(2)
        }))

      it.effect("concurrent puts of one id create it once", () =>
        Effect.gen(function*() {
          const store = yield* NotificationStore
          const sellerId = unique("seller")
          const results = yield* Effect.all(Arr.replicate(store.put(notificationOf(sellerId, 1)), 8), {
            concurrency: "unbounded"
          })
          expect(results.filter((r) => r.created)).toHaveLength(1)
          expect(new Set(results.map((r) => r.notification.seq)).size).toBe(1)
          expect(yield* store.list(sellerId, { limit: 10, order: "asc" })).toHaveLength(1)
        }))

      it.effect("get finds a notification by seller and id, and nothing elsewhere", () =>
        Effect.gen(function*() {
          const store = yield* NotificationStore
          const sellerId = yield* sellerWith(2)
          const found = yield* store.get(sellerId, notificationOf(sellerId, 2).id)
          expect(Option.map(found, (n) => n.seq)).toEqual(Option.some(2))
          expect(yield* store.get(sellerId, "no-such-id")).toEqual(Option.none())
          expect(yield* store.get(unique("seller"), notificationOf(sellerId, 2).id)).toEqual(Option.none())
        }))

      it.effect("list orders by seq both ways, within afterSeq/beforeSeq (exclusive), up to limit", () =>
        Effect.gen(function*() {
          const store = yield* NotificationStore
          const sellerId = yield* sellerWith(5)
          expect(seqs(yield* store.list(sellerId, { limit: 10, order: "asc" }))).toEqual([1, 2, 3, 4, 5])
          expect(seqs(yield* store.list(sellerId, { limit: 10, order: "desc" }))).toEqual([5, 4, 3, 2, 1])
          expect(seqs(yield* store.list(sellerId, { limit: 2, order: "asc" }))).toEqual([1, 2])
          expect(seqs(yield* store.list(sellerId, { limit: 2, order: "desc" }))).toEqual([5, 4])
          expect(seqs(yield* store.list(sellerId, { afterSeq: 2, limit: 10, order: "asc" }))).toEqual([3, 4, 5])
          expect(seqs(yield* store.list(sellerId, { beforeSeq: 3, limit: 10, order: "desc" }))).toEqual([2, 1])
          expect(seqs(yield* store.list(sellerId, { afterSeq: 1, beforeSeq: 5, limit: 2, order: "asc" }))).toEqual([2, 3])
          expect(seqs(yield* store.list(sellerId, { afterSeq: 1, beforeSeq: 5, limit: 2, order: "desc" }))).toEqual([4, 3])
          expect(yield* store.list(sellerId, { afterSeq: 5, limit: 10, order: "asc" })).toEqual([])
          expect(yield* store.list(sellerId, { afterSeq: 2, beforeSeq: 3, limit: 10, order: "asc" })).toEqual([])
          expect(yield* store.list(sellerId, { limit: 0, order: "asc" })).toEqual([])
          expect(yield* store.list(unique("seller"), { limit: 10, order: "asc" })).toEqual([])
        }))

      it.effect("paging forwards by afterSeq and backwards by beforeSeq visits each notification once", () =>
        Effect.gen(function*() {
          const store = yield* NotificationStore
          const sellerId = yield* sellerWith(7)
          const forwards: Array<number> = []
          let after = 0
          for (;;) {
            const page = yield* store.list(sellerId, { afterSeq: after, limit: 3, order: "asc" })
            if (page.length === 0) break
            forwards.push(...seqs(page))
            after = page[page.length - 1]!.seq
          }
          expect(forwards).toEqual([1, 2, 3, 4, 5, 6, 7])
          const backwards: Array<number> = []
          let before: number | undefined = undefined
          for (;;) {
            const page: ReadonlyArray<{ readonly seq: number }> = yield* store.list(sellerId, {
              limit: 3,
              order: "desc",
              ...(before === undefined ? {} : { beforeSeq: before })
            })
            if (page.length === 0) break
            backwards.push(...seqs(page))
            before = page[page.length - 1]!.seq
          }
          expect(backwards).toEqual([7, 6, 5, 4, 3, 2, 1])
        }))

      // The layers under test keep notifications for the default retention (NOTIFICATION_RETENTION unset).
      const retention = defaultNotificationRetention

      it.effect("a notification is served until its retention ends, then neither get nor list returns it", () =>
        Effect.gen(function*() {
          const store = yield* NotificationStore
          const sellerId = unique("seller")
          yield* store.put(notificationOf(sellerId, 1))
          yield* TestClock.adjust(Duration.days(10))
          yield* store.put(notificationOf(sellerId, 2))
          yield* TestClock.adjust(Duration.subtract(retention, Duration.sum(Duration.days(10), Duration.seconds(1))))
          expect(seqs(yield* store.list(sellerId, { limit: 10, order: "asc" }))).toEqual([1, 2])
          expect(Option.isSome(yield* store.get(sellerId, notificationOf(sellerId, 1).id))).toBe(true)

          yield* TestClock.adjust(Duration.seconds(1))
          expect(yield* store.get(sellerId, notificationOf(sellerId, 1).id)).toEqual(Option.none())
          expect(seqs(yield* store.list(sellerId, { limit: 10, order: "asc" }))).toEqual([2])
          expect(seqs(yield* store.list(sellerId, { limit: 1, order: "desc" }))).toEqual([2])
          expect(seqs(yield* store.list(sellerId, { afterSeq: 0, beforeSeq: 3, limit: 1, order: "asc" }))).toEqual([2])

          yield* TestClock.adjust(Duration.days(10))
          expect(yield* store.list(sellerId, { limit: 10, order: "asc" })).toEqual([])
          expect(yield* store.get(sellerId, notificationOf(sellerId, 2).id)).toEqual(Option.none())
        }))

      it.effect("an expired notification put again is stored anew, with the seller's next seq", () =>
        Effect.gen(function*() {
          const store = yield* NotificationStore
          const sellerId = unique("seller")
          const first = yield* store.put(notificationOf(sellerId, 1))
          yield* TestClock.adjust(retention)
          const again = yield* store.put(notificationOf(sellerId, 1))
          expect(again.created).toBe(true)
          expect(again.notification.seq).toBeGreaterThan(first.notification.seq)
          expect(Option.map(yield* store.get(sellerId, notificationOf(sellerId, 1).id), (n) => n.seq)).toEqual(
            Option.some(again.notification.seq)
          )
          expect(seqs(yield* store.list(sellerId, { limit: 10, order: "asc" }))).toEqual([again.notification.seq])
        }))
    })
  })
