import { Config, Context, Effect, FiberRef, FiberRefs, Layer, Logger, LogLevel, Option, Tracer } from "effect"

/**
 * How the programs log: `LOG_FORMAT=json` (one JSON object a line: time, level, message, the fiber's
 * annotations, trace and span ids, the cause; the default when stdout is not a terminal) or `pretty`
 * (the default in a terminal), at or above `LOG_LEVEL` (`info` by default; `debug` adds the access log
 * of successful requests, `none` silences everything).
 */

/** The span the log line was written in, if any: its ids tie the line to a trace. */
const currentSpan = (context: FiberRefs.FiberRefs): Option.Option<Tracer.AnySpan> =>
  Context.getOption(FiberRefs.getOrDefault(context, FiberRef.currentContext), Tracer.ParentSpan)

const structured = Logger.structuredLogger

/** A log call's message parts as one line of text: `Effect.logWarning("upload failed", error)`. */
const messageText = (message: unknown): string =>
  (Array.isArray(message) ? message : [message])
    .map((part) => (typeof part === "string" ? part : part instanceof Error ? String(part) : JSON.stringify(part)))
    .join(" ")

export const jsonLogger = Logger.make<unknown, string>((options) => {
  const { annotations, cause, logLevel, timestamp } = structured.log(options)
  const span = currentSpan(options.context)
  return JSON.stringify({
    time: timestamp,
    level: logLevel,
    message: messageText(options.message),
    ...annotations,
    ...(Option.isSome(span) ? { traceId: span.value.traceId, spanId: span.value.spanId } : {}),
    ...(cause === undefined ? {} : { cause })
  })
})

const levels = ["all", "trace", "debug", "info", "warning", "error", "fatal", "none"] as const
const levelOf = { all: "All", trace: "Trace", debug: "Debug", info: "Info", warning: "Warning", error: "Error", fatal: "Fatal", none: "None" } as const

export const LoggingLive = Layer.unwrapEffect(Effect.gen(function*() {
  const format = yield* Config.literal("json", "pretty")("LOG_FORMAT").pipe(
    Config.withDefault(process.stdout.isTTY ? "pretty" as const : "json" as const)
  )
  const level = yield* Config.literal(...levels)("LOG_LEVEL").pipe(Config.withDefault("info" as const))
  const logger = format === "json"
    ? Logger.replace(Logger.defaultLogger, Logger.withConsoleLog(jsonLogger))
    : Logger.replace(Logger.defaultLogger, Logger.prettyLogger())
  return Layer.merge(logger, Logger.minimumLogLevel(LogLevel.fromLiteral(levelOf[level])))
}))
