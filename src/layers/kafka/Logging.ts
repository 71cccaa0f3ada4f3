import { Effect, Runtime } from "effect"
import { logLevel, type logCreator } from "kafkajs"

/** kafkajs's log levels by name, for options and env. */
export type KafkaLogLevel = "error" | "warn" | "info" | "debug"

export const kafkaLogLevel = (level: KafkaLogLevel): logLevel =>
  ({ error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG })[level]

/** Fields worth a log line; kafkajs's others (stack traces, broker lists, payloads) are dropped. */
const kept = ["groupId", "topic", "partition", "error", "retryCount", "broker"] as const

/**
 * Routes kafkajs's logger into Effect's: one concise line per entry, annotated with the kafkajs
 * namespace and a few fields, at the matching level. No stack traces: kafkajs attaches them to
 * expected conditions (rebalances, retries on shutdown).
 */
export const effectLogCreator = (runtime: Runtime.Runtime<never>): logCreator => () => ({ level: entryLevel, log, namespace }) => {
  let level = entryLevel
  const { message, ...fields } = log
  const annotations: Record<string, unknown> = { service: "EventLogKafka", kafkajs: namespace }
  for (const name of kept) if (fields[name] !== undefined) annotations[name] = fields[name]
  const text = String(message)
  // kafkajs logs every error response at ERROR, expected ones too (topic exists, coordinator loading);
  // the calls that fail surface as EventLogErrors, so these lines are detail.
  if (namespace === "Connection" && text.startsWith("Response ")) level = logLevel.DEBUG
  const effect = level <= logLevel.ERROR
    ? Effect.logError(text)
    : level === logLevel.WARN
    ? Effect.logWarning(text)
    : level === logLevel.INFO
    ? Effect.logInfo(text)
    : Effect.logDebug(text)
  Runtime.runFork(runtime, effect.pipe(Effect.annotateLogs(annotations)))
}
