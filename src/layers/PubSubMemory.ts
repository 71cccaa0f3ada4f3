import { Effect, Layer, Queue, Stream } from "effect"
import { type ChannelMessage, defaultSubscriberBuffer, PubSub } from "../services/PubSub.js"

export interface MemoryOptions {
  /** Messages buffered per subscription before the oldest are dropped. */
  readonly subscriberBuffer?: number
}

export const make = (options: MemoryOptions = {}) =>
  Effect.sync(() => {
    const capacity = options.subscriberBuffer ?? defaultSubscriberBuffer
    // Mutated in place: subscribing and unsubscribing cost O(1) whatever the number of channels.
    const channels = new Map<string, Set<Queue.Queue<string>>>()

    const join = (channel: string, queue: Queue.Queue<string>) => {
      const subscribers = channels.get(channel)
      if (subscribers === undefined) channels.set(channel, new Set([queue]))
      else subscribers.add(queue)
    }
    const leave = (channel: string, queue: Queue.Queue<string>) => {
      const subscribers = channels.get(channel)
      if (subscribers === undefined) return
      subscribers.delete(queue)
      if (subscribers.size === 0) channels.delete(channel)
    }

    const publish = Effect.fn("PubSub.publish")(function*(channel: string, message: string) {
      const subscribers = channels.get(channel)
      if (subscribers === undefined) return
      // Sliding queues never suspend: a slow subscriber drops its oldest messages, the publisher goes on.
      for (const queue of [...subscribers]) yield* Queue.offer(queue, message)
    })

    const publishMany = Effect.fn("PubSub.publishMany")(function*(messages: ReadonlyArray<ChannelMessage>) {
      for (const { channel, message } of messages) {
        const subscribers = channels.get(channel)
        if (subscribers !== undefined) for (const queue of [...subscribers]) yield* Queue.offer(queue, message)
      }
    })

    const subscribe = Effect.fn("PubSub.subscribe")(function*(channel: string) {
      const queue = yield* Effect.acquireRelease(
        Queue.sliding<string>(capacity).pipe(Effect.tap((queue) => Effect.sync(() => join(channel, queue)))),
        (queue) => Effect.sync(() => leave(channel, queue)).pipe(Effect.zipRight(Queue.shutdown(queue)))
      )
      return Stream.fromQueue(queue)
    })

    return PubSub.of({ publish, publishMany, subscribe, ping: Effect.void.pipe(Effect.withSpan("PubSub.ping")) })
  })

/** A fresh broker per layer build, with the default subscriber buffer. */
export const layerMemory = Layer.effect(PubSub, make())
