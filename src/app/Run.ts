import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { LoggingLive } from "./Logging.js"

/**
 * Runs a program (its layer) until SIGINT or SIGTERM, logging as `LOG_FORMAT` and `LOG_LEVEL` say:
 * what every entry point in `src/programs/` does.
 */
export const runProgram = <E>(program: Layer.Layer<never, E>): void =>
  NodeRuntime.runMain(Layer.launch(program.pipe(Layer.provide(LoggingLive))), { disablePrettyLogger: true })
