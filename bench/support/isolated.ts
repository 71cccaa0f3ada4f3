import { Effect, Layer } from "effect"
import { productEventsTopic } from "../../src/domain/Consumers.js"
import { EventLog } from "../../src/services/EventLog.js"

/**
 * The event log as the services use it, with `product-events` read and written as `topic` and each
 * consumer group prefixed: a benchmark's programs and load stay apart from everything else on the
 * shared broker (other consumers of `product-events` never see bench events).
 */
export const isolatedEventLog = (topic: string, groupPrefix: string) =>
  Layer.effect(
    EventLog,
    Effect.map(EventLog, (log) => {
      const rename = (name: string) => (name === productEventsTopic ? topic : name)
      const group = (name: string) => `${groupPrefix}${name}`
      return EventLog.of({
        ...log,
        produce: (name, messages) => log.produce(rename(name), messages),
        subscribe: (options) => log.subscribe({ ...options, group: group(options.group), topics: options.topics.map(rename) }),
        committed: (name, t) => log.committed(group(name), rename(t)),
        endOffsets: (name) => log.endOffsets(rename(name)),
        ensureTopic: (name, partitions) => log.ensureTopic(rename(name), partitions)
      })
    })
  )

/** From env BENCH_TOPIC and BENCH_GROUP_PREFIX (for the bench's child programs). */
export const isolatedFromEnv = () => {
  const topic = process.env["BENCH_TOPIC"]
  if (topic === undefined) throw new Error("BENCH_TOPIC is not set")
  return isolatedEventLog(topic, process.env["BENCH_GROUP_PREFIX"] ?? `${topic}.`)
}
