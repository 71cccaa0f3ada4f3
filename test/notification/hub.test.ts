import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Context, Effect, Exit, Layer, Option, Scope, TestClock } from "effect"
import { toNotification } from "../../src/domain/Notify.js"
import * as NotificationStoreMemory from "../../src/layers/NotificationStoreMemory.js"
import * as PubSubMemory from "../../src/layers/PubSubMemory.js"
import type { Frame, Sink } from "../../src/services/hub/Subscriber.js"
import { Metrics } from "../../src/services/Metrics.js"
import { NotificationHub } from "../../src/services/NotificationHub.js"
import { NotificationService } from "../../src/services/NotificationService.js"
import { NotificationStore } from "../../src/services/NotificationStore.js"
import { PubSub } from "../../src/services/PubSub.js"
import { baseMillis, created } from "../support/events.js"

/** The in-memory pub/sub, counting the subscriptions open per channel (what the hub opens upstream). */
const countingPubSub = (open: Map<string, number>) =>
  Layer.effect(PubSub, Effect.map(PubSubMemory.make(), (inner) => PubSub.of({
    ...inner,
    subscribe: (channel) =>
      Effect.acquireRelease(
        Effect.sync(() => open.set(channel, (open.get(channel) ?? 0) + 1)),
        () => Effect.sync(() => open.set(channel, open.get(channel)! - 1))
      ).pipe(Effect.zipRight(inner.subscribe(channel)))
  })))

const stack = (open = new Map<string, number>()) =>
  Layer.mergeAll(NotificationHub.Default, NotificationService.Default).pipe(
    Layer.provideMerge(Layer.mergeAll(NotificationStoreMemory.layerMemory, countingPubSub(open)))
  )

/** A client: what it received (ids, ":hb" for heartbeats, ":expired" last when its token expired); `capacity` frames unread make it full. */
const client = (capacity = Infinity) => {
  const received: Array<string> = []
  const state = { ended: false }
  const sink: Sink = {
    write: (frame: Frame) => void received.push(frame.notification.id),
    heartbeat: () => void received.push(":hb"),
    full: () => received.length >= capacity,
    whenWritable: Effect.void,
    end: () => void (state.ended = true),
    expire: () => {
      received.push(":expired")
      state.ended = true
    }
  }
  return { sink, received, ids: () => received.filter((r) => !r.startsWith(":")), ended: () => state.ended }
}

/** Subscribes the client for the test's scope; `close` earlier is what a client that goes away does. */
const connect = (hub: NotificationHub, sellerId: string, c: ReturnType<typeof client>, lastEventId?: string, expiresAt?: number) =>
  Effect.acquireRelease(hub.open(sellerId, Option.fromNullable(lastEventId), c.sink, { expiresAt }), (subscription) => subscription.close)

/** Lets the hub's fibers run until `done` holds (a bounded number of turns). */
const settle = (done: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000 && !done(); i++) yield* Effect.yieldNow()
  })

const events = (seller: string, n: number) => Array.from({ length: n }, (_, i) => created(seller, `p${i}`, baseMillis + i))

/** One client connected to seller s1's stream, with the services that feed it. */
const clientOfS1 = Effect.gen(function*() {
  const hub = yield* NotificationHub
  const c = client()
  yield* connect(hub, "s1", c)
  return { c, service: yield* NotificationService, store: yield* NotificationStore }
})

describe("NotificationHub", () => {
  it.scoped("opens one upstream subscription per seller, whatever its clients, and closes it with the last", () => {
    const open = new Map<string, number>()
    return Effect.gen(function*() {
      const hub = yield* NotificationHub
      const service = yield* NotificationService
      const a = client()
      const b = client()
      const subscriptionA = yield* connect(hub, "s1", a)
      const subscriptionB = yield* connect(hub, "s1", b)
      yield* connect(hub, "s2", client())
      expect([open.get("notifications:s1"), open.get("notifications:s2")]).toEqual([1, 1])
      expect(yield* hub.stats).toEqual({ sellers: 2, subscribers: 3, expiring: 0 })

      const [e1, e2] = events("s1", 2)
      yield* service.handle(e1!)
      yield* settle(() => a.ids().length === 1 && b.ids().length === 1)
      expect([a.ids(), b.ids()]).toEqual([[e1!.eventId], [e1!.eventId]])

      yield* subscriptionA.close
      expect(open.get("notifications:s1")).toBe(1)
      yield* service.handle(e2!)
      yield* settle(() => b.ids().length === 2)
      expect(b.ids()).toEqual([e1!.eventId, e2!.eventId])

      yield* subscriptionB.close
      expect(open.get("notifications:s1")).toBe(0)
      expect(yield* hub.stats).toEqual({ sellers: 1, subscribers: 1, expiring: 0 })
    }).pipe(Effect.provide(stack(open)))
  })

  it.scoped("a slow client is ended without delaying the others, and resumes after its last id with no gap and no duplicate", () =>
    Effect.gen(function*() {
      const hub = yield* NotificationHub
      const service = yield* NotificationService
      const fast = client()
      const slow = client(3)
      yield* connect(hub, "s1", fast)
      yield* connect(hub, "s1", slow)
      const all = events("s1", 10)
      for (const e of all) yield* service.handle(e)
      yield* settle(() => fast.ids().length === all.length)
      expect(fast.ids()).toEqual(all.map((e) => e.eventId))
      expect(fast.ended()).toBe(false)
      expect(slow.ended()).toBe(true)
      expect(slow.ids()).toEqual(all.slice(0, 3).map((e) => e.eventId))

      const resumed = client()
      yield* connect(hub, "s1", resumed, slow.ids().at(-1))
      yield* settle(() => resumed.ids().length === 7)
      expect([...slow.ids(), ...resumed.ids()]).toEqual(all.map((e) => e.eventId))
    }).pipe(Effect.provide(stack())))

  it.scoped("fills a gap in seq from the store (a message pub/sub dropped) before the frame that revealed it", () =>
    Effect.gen(function*() {
      const { c, service, store } = yield* clientOfS1
      const [e1, e2, e3] = events("s1", 3)
      yield* service.handle(e1!)
      yield* store.put(toNotification(e2!)) // stored, never published
      yield* service.handle(e3!)
      yield* settle(() => c.ids().length === 3)
      expect(c.ids()).toEqual([e1!.eventId, e2!.eventId, e3!.eventId])
    }).pipe(Effect.provide(stack())))

  it.scoped("sends every quiet client a heartbeat from one tick each interval, and none before", () =>
    Effect.gen(function*() {
      const hub = yield* NotificationHub
      const a = client()
      const b = client()
      yield* connect(hub, "s1", a)
      yield* connect(hub, "s2", b)
      yield* TestClock.adjust("14999 millis")
      expect([a.received, b.received]).toEqual([[], []])
      yield* TestClock.adjust("1 millis")
      expect([a.received, b.received]).toEqual([[":hb"], [":hb"]])
      yield* TestClock.adjust("30 seconds")
      expect([a.received, b.received]).toEqual([[":hb", ":hb", ":hb"], [":hb", ":hb", ":hb"]])
    }).pipe(Effect.provide(stack())))

  it.scoped("a write restarts the heartbeat count: a beat after two quiet ticks, so never more than an interval of silence", () =>
    Effect.gen(function*() {
      const hub = yield* NotificationHub
      const service = yield* NotificationService
      const busy = client()
      const quiet = client()
      yield* connect(hub, "s1", busy)
      yield* connect(hub, "s2", quiet)
      const [e1] = events("s1", 1)
      yield* TestClock.adjust("10 seconds")
      yield* service.handle(e1!)
      yield* settle(() => busy.ids().length === 1)
      // 15 s: s1's stream got a frame 5 s before, s2's nothing since it opened.
      yield* TestClock.adjust("5 seconds")
      expect([busy.received, quiet.received]).toEqual([[e1!.eventId], [":hb"]])
      // s1's first heartbeat comes by 15 s after its frame (at the tick of 22.5 s), not a whole interval later.
      yield* TestClock.adjust("7499 millis")
      expect(busy.received).toEqual([e1!.eventId])
      yield* TestClock.adjust("1 millis")
      expect(busy.received).toEqual([e1!.eventId, ":hb"])
      yield* TestClock.adjust("7500 millis")
      expect([busy.received, quiet.received]).toEqual([[e1!.eventId, ":hb"], [":hb", ":hb"]])
    }).pipe(Effect.provide(stack())))

  it.scoped("counts frames caught up from the store as writes: no heartbeat due right after them", () =>
    Effect.gen(function*() {
      const { c, service, store } = yield* clientOfS1
      // Quiet through the tick at 7.5 s; at 10 s a gap (e1 stored, never published) is caught up from the store.
      yield* TestClock.adjust("10 seconds")
      const [e1, e2] = events("s1", 2)
      yield* store.put(toNotification(e1!))
      yield* service.handle(e2!)
      yield* settle(() => c.ids().length === 2)
      yield* TestClock.adjust("5 seconds")
      expect(c.received).toEqual([e1!.eventId, e2!.eventId])
      yield* TestClock.adjust("7500 millis")
      expect(c.received).toEqual([e1!.eventId, e2!.eventId, ":hb"])
    }).pipe(Effect.provide(stack())))

  it.scoped("ends a stream when its token expires, after a last comment; the others and later notifications go on", () =>
    Effect.gen(function*() {
      const hub = yield* NotificationHub
      const service = yield* NotificationService
      // The test clock starts at the epoch: tokens expiring at 4 s and 10 s (epoch seconds, as a JWT's exp), and one without.
      const [soon, later, never] = [client(), client(), client()]
      yield* connect(hub, "s1", soon, undefined, 4)
      yield* connect(hub, "s1", later, undefined, 10)
      yield* connect(hub, "s1", never)
      const [e1, e2] = events("s1", 2)
      yield* service.handle(e1!)
      yield* settle(() => soon.ids().length === 1)

      yield* TestClock.adjust("3999 millis")
      expect(soon.ended()).toBe(false)
      yield* TestClock.adjust("1 millis")
      expect([soon.received, soon.ended()]).toEqual([[e1!.eventId, ":expired"], true])
      expect([later.ended(), never.ended()]).toEqual([false, false])

      yield* service.handle(e2!)
      yield* settle(() => later.ids().length === 2 && never.ids().length === 2)
      expect(soon.ids()).toEqual([e1!.eventId])
      yield* TestClock.adjust("6 seconds")
      expect([later.received.at(-1), later.ended(), never.ended()]).toEqual([":expired", true, false])
      // Expired streams stay subscribers until their clients go; nothing waits to expire any more.
      expect(yield* hub.stats).toEqual({ sellers: 1, subscribers: 3, expiring: 0 })
    }).pipe(Effect.provide(stack())))

  it.scoped("a stream opened after its token's exp passed (verified just before, opened after a tick) is ended by the next tick", () =>
    Effect.gen(function*() {
      const hub = yield* NotificationHub
      // Ticks have run past second 4 when the stream, whose token (exp 4) was verified at 3.9 s, is opened.
      yield* TestClock.adjust("6 seconds")
      const late = client()
      yield* connect(hub, "s1", late, undefined, 4)
      expect(late.ended()).toBe(false)
      yield* TestClock.adjust("1 second")
      expect([late.received, late.ended()]).toEqual([[":expired"], true])
      expect(yield* hub.stats).toEqual({ sellers: 1, subscribers: 1, expiring: 0 })
    }).pipe(Effect.provide(stack())))

  it.scoped("a client gone before its token expires is forgotten; expiring it ends nothing", () =>
    Effect.gen(function*() {
      const hub = yield* NotificationHub
      const gone = client()
      const subscription = yield* hub.open("s1", Option.none(), gone.sink, { expiresAt: 2 })
      expect(yield* hub.stats).toEqual({ sellers: 1, subscribers: 1, expiring: 1 })
      yield* subscription.close
      expect(gone.ended()).toBe(true)
      expect(yield* hub.stats).toEqual({ sellers: 0, subscribers: 0, expiring: 0 })
      gone.received.length = 0
      yield* TestClock.adjust("5 seconds")
      expect(gone.received).toEqual([])
      expect(yield* hub.stats).toEqual({ sellers: 0, subscribers: 0, expiring: 0 })
    }).pipe(Effect.provide(stack())))

  it.scoped("a seller has at most SSE_MAX_STREAMS_PER_SELLER subscribers; the next is refused (and counted) until one leaves", () =>
    Effect.gen(function*() {
      const hub = yield* NotificationHub
      const metrics = yield* Metrics
      const subscriptions = yield* Effect.forEach(Array.from({ length: 3 }), () => connect(hub, "s1", client()))
      const refused = yield* Effect.flip(hub.open("s1", Option.none(), client().sink, { expiresAt: 2 }))
      expect(refused).toMatchObject({ _tag: "StreamLimitReached", sellerId: "s1", limit: 3, retryAfterSeconds: 10 })
      // Refused before anything was held: no subscriber, no pending expiry.
      expect(yield* hub.stats).toEqual({ sellers: 1, subscribers: 3, expiring: 0 })
      yield* connect(hub, "s2", client())
      expect((yield* Effect.promise(() => metrics.sseStreamsRefused.get())).values[0]?.value).toBe(1)

      yield* subscriptions[0]!.close
      yield* connect(hub, "s1", client())
      expect(yield* Effect.either(hub.open("s1", Option.none(), client().sink))).toMatchObject({ _tag: "Left" })
    }).pipe(
      // The same Metrics as the hub's (layers are shared by reference within a build).
      Effect.provide(Layer.merge(stack(), Metrics.Default)),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["SSE_MAX_STREAMS_PER_SELLER", "3"]])))
    ))

  it.scoped("ends every client's stream when the hub shuts down", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(stack(), scope)
      const hub = Context.get(context, NotificationHub)
      const clients = [client(), client(), client()]
      yield* Effect.forEach(clients, (c, i) => connect(hub, `s${i % 2}`, c))
      yield* Scope.close(scope, Exit.void)
      expect(clients.map((c) => c.ended())).toEqual([true, true, true])
    }))
})
