import { Redis } from "ioredis"
import { Config, Effect, Layer, Queue, Runtime, Stream } from "effect"
import { type ChannelMessage, defaultSubscriberBuffer, PubSub, PubSubError } from "../services/PubSub.js"

/**
 * PubSub on Redis (ioredis): one publisher connection and ONE subscriber connection per layer, shared by
 * every subscription. A channel is SUBSCRIBEd when its first subscription opens and UNSUBSCRIBEd when its
 * last closes; messages fan out to a sliding queue per subscription. After a lost connection ioredis
 * reconnects and resubscribes (`autoResubscribe`); messages published meanwhile are lost, as in Redis.
 */

export interface Options {
  /** e.g. redis://127.0.0.1:6379 */
  readonly url: string
  /** Messages buffered per subscription before the oldest are dropped. */
  readonly subscriberBuffer?: number
}

const connect = (url: string, name: string) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const redis = new Redis(url, { lazyConnect: true, connectionName: name, maxRetriesPerRequest: 3 })
        try {
          await redis.connect()
          return redis
        } catch (error) {
          redis.disconnect()
          throw error
        }
      },
      catch: (cause) => new PubSubError({ operation: "connect", cause })
    }),
    (redis) => Effect.promise(() => redis.quit().catch(() => redis.disconnect()))
  )

export const make = (options: Options) =>
  Effect.gen(function*() {
    const capacity = options.subscriberBuffer ?? defaultSubscriberBuffer
    const publisher = yield* connect(options.url, "product-events-publisher")
    const subscriber = yield* connect(options.url, "product-events-subscriber")
    const channels = new Map<string, Set<Queue.Queue<string>>>()
    // SUBSCRIBE/UNSUBSCRIBE and the channel map change together, one at a time.
    const lock = yield* Effect.makeSemaphore(1)

    const onMessage = (channel: string, message: string) => {
      // Sliding queues never suspend: runSync offers now, in arrival order. (`unsafeOffer` would not
      // slide: on a full queue it refuses the new message instead of dropping the oldest.)
      for (const queue of channels.get(channel) ?? []) Effect.runSync(Queue.offer(queue, message))
    }
    yield* Effect.acquireRelease(
      Effect.sync(() => subscriber.on("message", onMessage)),
      () => Effect.sync(() => subscriber.off("message", onMessage))
    )
    const runtime = yield* Effect.runtime<never>()
    const onError = (error: unknown) =>
      Runtime.runFork(runtime, Effect.logWarning("Redis connection error", error).pipe(Effect.annotateLogs("service", "PubSub")))
    publisher.on("error", onError)
    subscriber.on("error", onError)

    const publish = Effect.fn("PubSub.publish")((channel: string, message: string) =>
      Effect.tryPromise({
        try: () => publisher.publish(channel, message),
        catch: (cause) => new PubSubError({ operation: "publish", cause })
      }).pipe(Effect.asVoid)
    )

    const publishMany = Effect.fn("PubSub.publishMany")((messages: ReadonlyArray<ChannelMessage>) =>
      messages.length === 0 ? Effect.void : Effect.tryPromise({
        try: async () => {
          const pipeline = publisher.pipeline()
          for (const { channel, message } of messages) pipeline.publish(channel, message)
          const replies = (await pipeline.exec()) ?? []
          const failure = replies.find(([error]) => error !== null)
          if (failure !== undefined) throw failure[0]
        },
        catch: (cause) => new PubSubError({ operation: "publish", cause })
      })
    )

    const join = (channel: string, queue: Queue.Queue<string>) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const subscribers = channels.get(channel)
        if (subscribers !== undefined) {
          subscribers.add(queue)
          return
        }
        // Resolves when Redis confirmed the SUBSCRIBE: from then on every message published reaches us.
        yield* Effect.tryPromise({
          try: () => subscriber.subscribe(channel),
          catch: (cause) => new PubSubError({ operation: "subscribe", cause })
        })
        channels.set(channel, new Set([queue]))
      }))

    const leave = (channel: string, queue: Queue.Queue<string>) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const subscribers = channels.get(channel)
        subscribers?.delete(queue)
        if (subscribers !== undefined && subscribers.size === 0) {
          channels.delete(channel)
          yield* Effect.tryPromise(() => subscriber.unsubscribe(channel)).pipe(
            Effect.catchAll((cause) => Effect.logWarning(`UNSUBSCRIBE ${channel} failed`, cause))
          )
        }
      })).pipe(Effect.zipRight(Queue.shutdown(queue)))

    const subscribe = Effect.fn("PubSub.subscribe")(function*(channel: string) {
      const queue = yield* Effect.acquireRelease(
        Queue.sliding<string>(capacity).pipe(
          Effect.tap((queue) => join(channel, queue).pipe(Effect.onError(() => Queue.shutdown(queue))))
        ),
        (queue) => leave(channel, queue)
      )
      return Stream.fromQueue(queue)
    })

    const ping = Effect.tryPromise({
      try: () => Promise.all([publisher.ping(), subscriber.ping()]),
      catch: (cause) => new PubSubError({ operation: "ping", cause })
    }).pipe(Effect.asVoid, Effect.withSpan("PubSub.ping"))

    return PubSub.of({ publish, publishMany, subscribe, ping })
  }).pipe(Effect.annotateLogs("service", "PubSub"))

export const layer = (options: Options): Layer.Layer<PubSub, PubSubError> => Layer.scoped(PubSub, make(options))

/** From env: REDIS_URL (default redis://127.0.0.1:6379). */
export const layerConfig = Layer.unwrapEffect(
  Effect.map(
    Config.string("REDIS_URL").pipe(Config.withDefault("redis://127.0.0.1:6379")),
    (url) => layer({ url })
  )
)
