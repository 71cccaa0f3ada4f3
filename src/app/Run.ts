import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { LoggingLive } from "./Logging.js"
import { TracingLive } from "./Tracing.js"

/**
 * Runs a program (its layer) until SIGINT or SIGTERM, logging as `LOG_FORMAT` and `LOG_LEVEL` say and
 * exporting spans when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, as `name`: what every entry point in
 * `src/programs/` does.
 */
export const runProgram = <E>(name: string, program: Layer.Layer<never, E>): void =>
  NodeRuntime.runMain(
    Layer.launch(program.pipe(Layer.provide(Layer.merge(LoggingLive, TracingLive(name))))),
    { disablePrettyLogger: true }
  )
