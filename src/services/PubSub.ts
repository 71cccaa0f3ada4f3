import { Context, type Effect, type Scope, type Stream } from "effect"
import { InfraError } from "./InfraError.js"

/**
 * Fire-and-forget messages on named channels, as Redis Pub/Sub: a message reaches the subscribers
 * of its channel at the time it is published, and no one else, ever. In memory
 * (`layers/PubSubMemory.ts`) and on Redis (ioredis, one subscriber connection per process).
 */

/**
 * Messages buffered per subscription before the oldest are dropped (sliding buffer). A slow subscriber
 * never blocks publishers nor grows memory without bound; it loses messages instead, which a
 * subscriber that must not miss any detects (e.g. by a gap in `seq`) and re-reads from its store.
 */
export const defaultSubscriberBuffer = 1024

/** A message and its channel, for `publishMany`. */
export interface ChannelMessage {
  readonly channel: string
  readonly message: string
}

export class PubSubError extends InfraError("PubSubError", "pub/sub") {}

export class PubSub extends Context.Tag("product-events/PubSub")<
  PubSub,
  {
    /** Delivers to every current subscriber of the channel; succeeds with no subscriber too. */
    readonly publish: (channel: string, message: string) => Effect.Effect<void, PubSubError>
    /** `publish` of each message, in order, in one round trip (a Redis pipeline); fails if any failed. */
    readonly publishMany: (messages: ReadonlyArray<ChannelMessage>) => Effect.Effect<void, PubSubError>
    /**
     * Subscribes for the lifetime of the scope. The subscription is active when this effect succeeds:
     * every message published afterwards is in the stream, in publish order (up to the buffer, see
     * `defaultSubscriberBuffer`). Closing the scope unsubscribes and ends the stream.
     */
    readonly subscribe: (channel: string) => Effect.Effect<Stream.Stream<string>, PubSubError, Scope.Scope>
    /** Reachable and serving: for readiness probes. */
    readonly ping: Effect.Effect<void, PubSubError>
  }
>() {}
