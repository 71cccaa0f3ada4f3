import { Clock, Config, Data, Deferred, Duration, Effect, FiberId, FiberSet, Option, Stream } from "effect"
import {
  decodePublishedNotification,
  decodeStoredNotification,
  notificationChannel,
  type StoredNotification
} from "../domain/Notification.js"
import { frameBytes, heartbeatFrame, notificationFrame } from "../domain/SseFrame.js"
import { deliver, type Fanout, ofSeller } from "./hub/Push.js"
import { type Frame, type Sink, Subscriber } from "./hub/Subscriber.js"
import { Metrics } from "./Metrics.js"
import { NotificationStore, type NotificationStoreError } from "./NotificationStore.js"
import { PubSub, type PubSubError } from "./PubSub.js"
import { positiveInteger } from "./Settings.js"
import { onShutdownSignal } from "./ShutdownSignal.js"

const pageSize = 100

export const heartbeatBytes = frameBytes(heartbeatFrame)

export const frameOf = (notification: StoredNotification): Frame => ({
  seq: notification.seq,
  notification,
  bytes: frameBytes(notificationFrame(notification))
})

export interface OpenOptions {
  /**
   * When the subscriber's token expires, in epoch seconds (its `exp` claim): the stream ends then, after
   * a comment saying why, and the client reconnects with a fresh token and Last-Event-ID.
   */
  readonly expiresAt?: number | undefined
}

/**
 * The seller has `limit` streams open in this process already (`SSE_MAX_STREAMS_PER_SELLER`): one token
 * cannot take every file descriptor of the process. When a slot frees is unknowable; retry after a while.
 */
export class StreamLimitReached extends Data.TaggedError("StreamLimitReached")<{
  readonly sellerId: string
  readonly limit: number
}> {
  readonly retryAfterSeconds = 10
}

/** One seller's upstream subscription and the subscribers it feeds. */
interface Channel {
  readonly subscribers: Set<Subscriber>
  /** Succeeds once the pub/sub subscription is active. */
  readonly ready: Deferred.Deferred<void, PubSubError>
  /** Completed by the last subscriber to leave: the subscription closes. */
  readonly stop: Deferred.Deferred<void>
  /** Succeeds once the subscription is closed. */
  readonly closed: Deferred.Deferred<void>
  /**
   * The seller's latest seq as far as this process knows, once a subscriber read it from the store while
   * subscribed: from then on every later notification comes through the subscription, so a client without
   * Last-Event-ID starts here without a store read.
   */
  latest: number | undefined
  /** The highest seq delivered through the subscription. */
  delivered: number
}

/**
 * The process's fan-out of sellers' notifications to their SSE subscribers, shaped as centrifuge's hub:
 * ONE pub/sub subscription per seller with subscribers in this process, opened by the first and closed by
 * the last; each message decoded once and its frame encoded once to bytes that every subscriber writes;
 * one heartbeat tick for all. A subscriber is a small record (`hub/Subscriber.ts`) written to in plain
 * code; a fiber runs for it only while it reads from the store (replay after Last-Event-ID, gaps).
 */
export class NotificationHub extends Effect.Service<NotificationHub>()("product-events/NotificationHub", {
  scoped: Effect.gen(function*() {
    const store = yield* NotificationStore
    const pubsub = yield* PubSub
    const heartbeat = yield* Config.duration("SSE_HEARTBEAT").pipe(Config.withDefault(Duration.seconds(15)))
    const maxPending = yield* Config.integer("SSE_MAX_PENDING").pipe(Config.withDefault(1024))
    const maxStreams = yield* positiveInteger("SSE_MAX_STREAMS_PER_SELLER", 20)
    const metrics = yield* Metrics
    const hubScope = yield* Effect.scope
    const channels = new Map<string, Channel>()

    const fanout = (sellerId: string, channel: Channel): Fanout => ({
      sellerId,
      channel: notificationChannel(sellerId),
      decode: (message) => ofSeller(sellerId, decodeStoredNotification(message)),
      decodeTraced: (message) => ofSeller(sellerId, decodePublishedNotification(message)),
      push: (notification) => {
        const frame = frameOf(notification)
        if (frame.seq > channel.delivered) channel.delivered = frame.seq
        if (channel.latest !== undefined && frame.seq > channel.latest) channel.latest = frame.seq
        for (const subscriber of channel.subscribers) subscriber.offer(frame)
      },
      subscribers: () => channel.subscribers.size
    })

    const run = (sellerId: string, channel: Channel) =>
      Effect.scoped(Effect.gen(function*() {
        const messages = yield* pubsub.subscribe(notificationChannel(sellerId))
        yield* Deferred.succeed(channel.ready, undefined)
        yield* Effect.raceFirst(Stream.runForEachChunk(messages, deliver(fanout(sellerId, channel))), Deferred.await(channel.stop))
      })).pipe(
        Effect.catchAll((error) => Deferred.fail(channel.ready, error)),
        Effect.ensuring(Deferred.succeed(channel.closed, undefined)),
        Effect.interruptible,
        Effect.forkIn(hubScope)
      )

    /**
     * Adds the subscriber to its seller's channel, opening the subscription for the first one; refused
     * when the seller has `maxStreams` already. The channel's subscribers are the one count of a seller's
     * streams: a subscriber leaves it when its stream ends, whatever ended it (client gone, token expired,
     * overflow, shutdown), and its slot is free again.
     */
    const join = (subscriber: Subscriber) =>
      Effect.suspend(() => {
        const existing = channels.get(subscriber.sellerId)
        if (existing !== undefined && existing.subscribers.size >= maxStreams) {
          metrics.sseStreamsRefused.inc()
          return Effect.fail(new StreamLimitReached({ sellerId: subscriber.sellerId, limit: maxStreams }))
        }
        if (existing !== undefined) {
          existing.subscribers.add(subscriber)
          return Effect.succeed(existing)
        }
        const channel: Channel = {
          subscribers: new Set([subscriber]),
          ready: Deferred.unsafeMake(FiberId.none),
          stop: Deferred.unsafeMake(FiberId.none),
          closed: Deferred.unsafeMake(FiberId.none),
          latest: undefined,
          delivered: 0
        }
        channels.set(subscriber.sellerId, channel)
        return Effect.as(run(subscriber.sellerId, channel), channel)
      })

    const leave = (subscriber: Subscriber) =>
      Effect.suspend(() => {
        forgetExpiry(subscriber)
        const channel = channels.get(subscriber.sellerId)
        if (channel === undefined || !channel.subscribers.delete(subscriber) || channel.subscribers.size > 0) {
          return Effect.void
        }
        channels.delete(subscriber.sellerId)
        return Deferred.succeed(channel.stop, undefined).pipe(Effect.zipRight(Deferred.await(channel.closed)))
      })

    /** Writes the stored notifications with afterSeq < seq < beforeSeq, page by page, as the sink takes them. */
    const writeStored = (subscriber: Subscriber, afterSeq: number, beforeSeq?: number) =>
      Effect.gen(function*() {
        let after = afterSeq
        for (;;) {
          const page = yield* store.list(subscriber.sellerId, {
            afterSeq: after,
            limit: pageSize,
            order: "asc",
            ...(beforeSeq === undefined ? {} : { beforeSeq })
          })
          for (const notification of page) {
            if (subscriber.ended) return
            yield* subscriber.sink.whenWritable
            subscriber.writeOwn(frameOf(notification))
          }
          if (page.length < pageSize) return
          after = page[page.length - 1]!.seq
        }
      })

    /** Writes what waits in `pending`, filling gaps from the store, until nothing waits: then live. */
    const catchUp = (subscriber: Subscriber) =>
      Effect.gen(function*() {
        while (!subscriber.ended) {
          const next = subscriber.pending.shift()
          if (next === undefined) {
            subscriber.live = true
            return
          }
          if (next.seq <= subscriber.sent) continue
          if (next.seq > subscriber.sent + 1) yield* writeStored(subscriber, subscriber.sent, next.seq)
          yield* subscriber.sink.whenWritable
          subscriber.writeOwn(next)
        }
      })

    const startSeq = (sellerId: string, lastEventId: Option.Option<string>) =>
      Option.match(lastEventId, {
        // Unknown ids replay from the start: the client may have seen nothing we know of.
        onSome: (id) => Effect.map(store.get(sellerId, id), Option.match({ onNone: () => 0, onSome: (n) => n.seq })),
        onNone: () => Effect.map(store.list(sellerId, { limit: 1, order: "desc" }), (latest) => latest[0]?.seq ?? 0)
      })

    // Replays and catch-ups run in fibers of their own, only while they have work; a live subscriber has none.
    const fibers = yield* FiberSet.make()
    const runFork = yield* FiberSet.runtime(fibers)<never>()
    const fromStore = (subscriber: Subscriber, work: Effect.Effect<void, NotificationStoreError>) => {
      runFork(work.pipe(
        Effect.zipRight(catchUp(subscriber)),
        Effect.catchAll((error) => Effect.logWarning("notification stream ended", error)),
        Effect.onExit(() => Effect.sync(() => subscriber.live || subscriber.end()))
      ))
    }
    const startCatchUp = (subscriber: Subscriber) => fromStore(subscriber, Effect.void)

    /**
     * Subscribes a sink to the seller's notifications: once this succeeds, whatever is published is
     * written to it, after the stored notifications that follow `lastEventId` when given. The
     * subscription is active before the store is read, so nothing published meanwhile is missed;
     * `seq` drops at the seam what the replay sent. The sink is written to until it ends (overflow,
     * shutdown, its token's `expiresAt`) or `close` (its client is gone); `close` must be called either way.
     * Fails with `StreamLimitReached` (nothing to close) when the seller has `SSE_MAX_STREAMS_PER_SELLER` open.
     */
    const open = (sellerId: string, lastEventId: Option.Option<string>, sink: Sink, options: OpenOptions = {}) =>
      Effect.gen(function*() {
        const subscriber = new Subscriber(sellerId, sink, maxPending, startCatchUp)
        const channel = yield* join(subscriber)
        if (options.expiresAt !== undefined) expireAt(subscriber, options.expiresAt)
        const close = leave(subscriber).pipe(Effect.zipRight(Effect.sync(() => subscriber.end())))
        yield* Effect.gen(function*() {
          yield* Deferred.await(channel.ready)
          if (Option.isNone(lastEventId) && channel.latest !== undefined) {
            subscriber.sent = channel.latest
          } else {
            const start = yield* startSeq(sellerId, lastEventId)
            if (Option.isNone(lastEventId)) channel.latest = Math.max(channel.latest ?? 0, channel.delivered, start)
            subscriber.sent = start
          }
        }).pipe(Effect.onError(() => close))
        if (Option.isSome(lastEventId)) fromStore(subscriber, writeStored(subscriber, subscriber.sent))
        else if (subscriber.pending.length > 0) startCatchUp(subscriber)
        else subscriber.live = true
        return { close, unsafeClose: () => void runFork(close) }
      })

    const beat = Effect.sync(() => {
      for (const channel of channels.values()) for (const subscriber of channel.subscribers) subscriber.heartbeat()
    })
    // Two ticks per interval: a stream quiet for two of them gets a heartbeat (see `Subscriber.heartbeat`).
    yield* Effect.sleep(Duration.unsafeDivide(heartbeat, 2)).pipe(Effect.zipRight(beat), Effect.forever, Effect.forkScoped)

    // Token expiry: subscribers by the second their token expires, ended by one tick a second for all.
    const expiring = new Map<number, Set<Subscriber>>()
    const expireAt = (subscriber: Subscriber, expiresAt: number) => {
      subscriber.expiresAt = expiresAt
      let due = expiring.get(expiresAt)
      if (due === undefined) expiring.set(expiresAt, (due = new Set()))
      due.add(subscriber)
    }
    const forgetExpiry = (subscriber: Subscriber) => {
      if (subscriber.expiresAt === undefined) return
      const due = expiring.get(subscriber.expiresAt)
      if (due !== undefined && due.delete(subscriber) && due.size === 0) expiring.delete(subscriber.expiresAt)
    }
    /**
     * Ends the streams whose token expired by `nowSeconds` (a JWT is valid before its `exp`, not at it). Every
     * pending second is looked at, not only those since the last tick: a stream verified just before its
     * `exp` may be opened after a tick passed it.
     */
    const expireDue = (nowSeconds: number) => {
      let ended = 0
      for (const [second, due] of expiring) {
        if (second > nowSeconds) continue
        expiring.delete(second)
        for (const subscriber of due) {
          subscriber.expire()
          ended++
        }
      }
      return ended
    }
    yield* Clock.currentTimeMillis.pipe(
      Effect.flatMap((now) => {
        const ended = expireDue(Math.floor(now / 1000))
        return ended === 0 ? Effect.void : Effect.logDebug(`ended ${ended} notification streams whose token expired`)
      }),
      Effect.zipRight(Effect.sleep("1 second")),
      Effect.forever,
      Effect.forkScoped
    )

    /** Sellers with subscribers, subscribers, and subscribers whose token's expiry is pending. */
    const stats = Effect.sync(() => {
      let subscribers = 0
      let expiringSubscribers = 0
      for (const channel of channels.values()) subscribers += channel.subscribers.size
      for (const due of expiring.values()) expiringSubscribers += due.size
      return { sellers: channels.size, subscribers, expiring: expiringSubscribers }
    })

    let ending = false
    const endAll = Effect.suspend(() => {
      if (ending) return Effect.void
      ending = true
      return Effect.flatMap(stats, ({ sellers, subscribers }) => {
        for (const channel of channels.values()) for (const subscriber of channel.subscribers) subscriber.end()
        return Effect.logInfo(`ended ${subscribers} notification streams of ${sellers} sellers`)
      })
    })
    yield* Effect.addFinalizer(() => endAll)
    // Streams end at the signal itself (clients reconnect elsewhere), not after the consumers drained.
    yield* onShutdownSignal(endAll)

    return { open, stats } as const
  }).pipe(Effect.annotateLogs("service", "NotificationHub")),
  // The process's own registry, as layers are shared by reference: refused streams show in its /metrics.
  dependencies: [Metrics.Default]
}) {}
