import { describe, expect, it } from "@effect/vitest"
import { Cause, ConfigProvider, Console, Effect, Layer } from "effect"
import { LoggingLive } from "../../src/app/Logging.js"

/**
 * Runs `effect` with LoggingLive configured by `env`, as a program of its own (a program builds its
 * logging once; loggers a layer adds stay with the fiber that built it), and returns the lines logged.
 */
const logged = (env: Record<string, string>, effect: Effect.Effect<void>) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const capture = (...args: ReadonlyArray<unknown>) => void lines.push(args.map(String).join(" "))
    const console = yield* Console.consoleWith(Effect.succeed)
    const layer = LoggingLive.pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))))
    const program = effect.pipe(
      Effect.provide(layer),
      Console.withConsole({ ...console, unsafe: { ...console.unsafe, log: capture, error: capture } })
    )
    yield* Effect.flatten(Effect.promise(() => Effect.runPromiseExit(program)))
    return lines
  })

describe("LoggingLive", () => {
  it.live("json: one object a line with level, message, annotations, and the span's trace and span ids", () =>
    Effect.gen(function*() {
      let ids = { traceId: "", spanId: "" }
      const lines = yield* logged(
        { LOG_FORMAT: "json" },
        Effect.gen(function*() {
          const span = yield* Effect.currentSpan
          ids = { traceId: span.traceId, spanId: span.spanId }
          yield* Effect.logWarning("disk almost full").pipe(Effect.annotateLogs("service", "Archive"))
        }).pipe(Effect.orDie, Effect.withSpan("upload"))
      )
      expect(lines).toHaveLength(1)
      const line = JSON.parse(lines[0]!) as Record<string, unknown>
      expect(line).toMatchObject({ level: "WARN", message: "disk almost full", service: "Archive", ...ids })
      expect(ids.traceId).toMatch(/^[0-9a-f]+$/)
      expect(Date.parse(String(line["time"]))).not.toBeNaN()
    }))

  it.live("json: a cause is in the line, an error among the message parts in the message; outside a span no ids", () =>
    Effect.gen(function*() {
      const lines = yield* logged(
        { LOG_FORMAT: "json" },
        Effect.logError("upload failed", Cause.fail(new Error("connection reset"))).pipe(
          Effect.zipRight(Effect.logWarning("retrying", new Error("timeout"), { attempt: 2 }))
        )
      )
      const [failed, retrying] = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(failed).toMatchObject({ level: "ERROR", message: "upload failed" })
      expect(String(failed!["cause"])).toContain("connection reset")
      expect(failed).not.toHaveProperty("traceId")
      expect(retrying).toMatchObject({ level: "WARN", message: "retrying Error: timeout {\"attempt\":2}" })
    }))

  it.live("LOG_LEVEL drops what is below it: debug lines only at debug, nothing at none", () =>
    Effect.gen(function*() {
      const some = Effect.logDebug("detail").pipe(Effect.zipRight(Effect.logInfo("event")), Effect.zipRight(Effect.logError("bad")))
      const messages = (lines: ReadonlyArray<string>) => lines.map((l) => (JSON.parse(l) as { message: string }).message)
      expect(messages(yield* logged({ LOG_FORMAT: "json" }, some))).toEqual(["event", "bad"])
      expect(messages(yield* logged({ LOG_FORMAT: "json", LOG_LEVEL: "debug" }, some))).toEqual(["detail", "event", "bad"])
      expect(messages(yield* logged({ LOG_FORMAT: "json", LOG_LEVEL: "error" }, some))).toEqual(["bad"])
      expect(yield* logged({ LOG_FORMAT: "json", LOG_LEVEL: "none" }, some)).toEqual([])
    }))

  it.live("an unknown LOG_FORMAT or LOG_LEVEL fails naming the variable", () =>
    Effect.gen(function*() {
      const format = yield* Effect.flip(logged({ LOG_FORMAT: "xml" }, Effect.void))
      expect(String(format)).toContain("LOG_FORMAT")
      const level = yield* Effect.flip(logged({ LOG_LEVEL: "loud" }, Effect.void))
      expect(String(level)).toContain("LOG_LEVEL")
    }))
})
