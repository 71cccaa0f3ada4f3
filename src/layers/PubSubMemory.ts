import { Effect, Layer, Queue, Ref, Stream } from "effect"
import { type ChannelMessage, defaultSubscriberBuffer, PubSub } from "../services/PubSub.js"

export interface MemoryOptions {
  /** Messages buffered per subscription before the oldest are dropped. */
  readonly subscriberBuffer?: number
}

export const make = (options: MemoryOptions = {}) =>
  Effect.gen(function*() {
    const capacity = options.subscriberBuffer ?? defaultSubscriberBuffer
    const channels = yield* Ref.make<ReadonlyMap<string, ReadonlySet<Queue.Queue<string>>>>(new Map())

    const update = (channel: string, f: (subscribers: Set<Queue.Queue<string>>) => void) =>
      Ref.update(channels, (all) => {
        const subscribers = new Set(all.get(channel))
        f(subscribers)
        const next = new Map(all)
        if (subscribers.size === 0) next.delete(channel)
        else next.set(channel, subscribers)
        return next
      })

    const publish = Effect.fn("PubSub.publish")(function*(channel: string, message: string) {
      const subscribers = (yield* Ref.get(channels)).get(channel)
      if (subscribers === undefined) return
      // Sliding queues never suspend: a slow subscriber drops its oldest messages, the publisher goes on.
      for (const queue of subscribers) yield* Queue.offer(queue, message)
    })

    const publishMany = Effect.fn("PubSub.publishMany")(function*(messages: ReadonlyArray<ChannelMessage>) {
      const all = yield* Ref.get(channels)
      for (const { channel, message } of messages) {
        for (const queue of all.get(channel) ?? []) yield* Queue.offer(queue, message)
      }
    })

    const subscribe = Effect.fn("PubSub.subscribe")(function*(channel: string) {
      const queue = yield* Effect.acquireRelease(
        Queue.sliding<string>(capacity).pipe(Effect.tap((queue) => update(channel, (s) => s.add(queue)))),
        (queue) => update(channel, (s) => s.delete(queue)).pipe(Effect.zipRight(Queue.shutdown(queue)))
      )
      return Stream.fromQueue(queue)
    })

    return PubSub.of({ publish, publishMany, subscribe, ping: Effect.void.pipe(Effect.withSpan("PubSub.ping")) })
  })

/** A fresh broker per layer build, with the default subscriber buffer. */
export const layerMemory = Layer.effect(PubSub, make())
