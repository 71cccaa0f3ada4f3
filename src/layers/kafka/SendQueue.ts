import { Effect } from "effect"
import type { Message } from "kafkajs"
import { EventLogError } from "../../services/EventLog.js"

/**
 * Produces with one send in flight: what callers produce meanwhile waits and goes out together in the
 * next send. kafkajs's idempotent producer sends one request at a time per broker anyway (it holds a
 * lock from encoding to acknowledgement), so concurrent sends queued behind each other, each paying a
 * round trip; merged, they pay one between them, and nobody waits longer than they would have.
 *
 * - Order: queued produces are sent in the order they came, each one's messages in its own order, so a
 *   partition receives them as separate sends would have delivered them.
 * - Acknowledgement: a produce completes when the send carrying it is acknowledged (acks all), with the
 *   offsets of its own messages; a failed send fails every produce in it (none of them is acknowledged).
 * - Size: a send takes queued produces up to `maxBytes` and `maxMessages` (the first one whatever its size),
 *   so merging never builds a request the broker would refuse where the produces alone would pass.
 * - No deadline of its own: a produce waits as long as its caller does. One whose caller gives up
 *   (interruption, e.g. a caller's `Effect.timeoutFail`) leaves the queue if it is
 *   still waiting; once in a send it is delivered or not as kafkajs decides. When every produce of the
 *   send in flight has given up, the next send starts without waiting for it (kafkajs's idempotent
 *   producer retries a send to a dead broker until the broker answers).
 */

/** A message routed to its partition, as kafkajs takes it. */
export interface RoutedMessage extends Message {
  readonly partition: number
}

/** What kafkajs answers a send: one entry per partition written. */
export type SendAck = ReadonlyArray<{
  readonly topicName: string
  readonly partition: number
  readonly baseOffset?: string
  readonly offset?: string
}>

export type Send = (topicMessages: Array<{ topic: string; messages: Array<RoutedMessage> }>) => Promise<SendAck>

export interface Position {
  readonly partition: number
  readonly offset: number
}

export interface SendQueueOptions {
  /** Bytes (keys, values and headers) a merged send carries at most. */
  readonly maxBytes: number
  /** Messages a merged send carries at most. */
  readonly maxMessages: number
}

interface Flight {
  /** Produces of this send whose callers still wait for it. */
  waiting: number
}

interface Produce {
  readonly topic: string
  readonly messages: ReadonlyArray<RoutedMessage>
  readonly bytes: number
  readonly resume: (result: Effect.Effect<ReadonlyArray<Position>, EventLogError>) => void
  flight: Flight | undefined
  abandoned: boolean
}

/** Bytes a message adds to a send: its key, value and headers, plus a record's own overhead. */
export const messageBytes = (key: string, value: Uint8Array, headers: Readonly<Record<string, string>> | undefined) => {
  let bytes = 32 + key.length + value.byteLength
  if (headers !== undefined) for (const name in headers) bytes += name.length + headers[name]!.length
  return bytes
}

export const make = (send: Send, options: SendQueueOptions) => {
  const queue: Array<Produce> = []
  let inFlight: Flight | undefined

  /** The positions of each produce's messages: a partition's base offset plus the message's index in the send. */
  const settle = (produces: ReadonlyArray<Produce>, ack: SendAck) => {
    // Per topic, the next offset of each partition (indexed by partition).
    const next = new Map<string, Array<number>>()
    for (const { baseOffset, offset, partition, topicName } of ack) {
      let offsets = next.get(topicName)
      if (offsets === undefined) next.set(topicName, offsets = [])
      offsets[partition] = Number(baseOffset ?? offset ?? NaN)
    }
    for (const produce of produces) {
      const offsets = next.get(produce.topic) ?? []
      const positions: Array<Position> = []
      let missing: number | undefined
      for (const { partition } of produce.messages) {
        const offset = offsets[partition]
        if (offset === undefined || Number.isNaN(offset)) missing ??= partition
        else offsets[partition] = offset + 1
        positions.push({ partition, offset: offset ?? NaN })
      }
      if (produce.abandoned) continue
      produce.resume(
        missing === undefined
          ? Effect.succeed(positions)
          : Effect.fail(new EventLogError({ operation: "produce", cause: `no base offset for ${produce.topic}/${missing}` }))
      )
    }
  }

  const flush = () => {
    inFlight = undefined
    if (queue.length === 0) return
    let bytes = 0
    let count = 0
    let taken = 0
    while (taken < queue.length) {
      const produce = queue[taken]!
      if (taken > 0 && (bytes + produce.bytes > options.maxBytes || count + produce.messages.length > options.maxMessages)) break
      bytes += produce.bytes
      count += produce.messages.length
      taken++
    }
    const produces = queue.splice(0, taken)
    const flight: Flight = { waiting: produces.length }
    inFlight = flight
    const byTopic = new Map<string, Array<RoutedMessage>>()
    for (const produce of produces) {
      produce.flight = flight
      const messages = byTopic.get(produce.topic)
      if (messages === undefined) byTopic.set(produce.topic, [...produce.messages])
      else for (const message of produce.messages) messages.push(message)
    }
    const done = () => {
      if (inFlight === flight) flush()
    }
    let sent: Promise<SendAck>
    try {
      sent = send(Array.from(byTopic, ([topic, messages]) => ({ topic, messages })))
    } catch (cause) {
      sent = Promise.reject(cause)
    }
    sent.then(
      (ack) => {
        settle(produces, ack)
        done()
      },
      (cause: unknown) => {
        for (const produce of produces) {
          if (!produce.abandoned) produce.resume(Effect.fail(new EventLogError({ operation: "produce", cause })))
        }
        done()
      }
    )
  }

  const giveUp = (entry: Produce) => {
    if (entry.abandoned) return
    entry.abandoned = true
    const flight = entry.flight
    if (flight === undefined) {
      const index = queue.indexOf(entry)
      if (index >= 0) queue.splice(index, 1)
    } else if (--flight.waiting === 0 && inFlight === flight) {
      flush()
    }
  }

  /** Sends `messages` (routed, `bytes` as `messageBytes` counts them) with whatever else is waiting; their positions in order. */
  const produce = (topic: string, messages: ReadonlyArray<RoutedMessage>, bytes: number) =>
    Effect.async<ReadonlyArray<Position>, EventLogError>((resume) => {
      const entry: Produce = { topic, messages, bytes, resume, flight: undefined, abandoned: false }
      queue.push(entry)
      if (inFlight === undefined) flush()
      return Effect.sync(() => giveUp(entry))
    })

  return { produce }
}
