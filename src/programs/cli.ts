import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit, Layer, Logger } from "effect"
import { runCli } from "../cli/Main.js"

/** The exit code of a run: the CLI's own, 130 when Ctrl-C (SIGINT) interrupted it (the shell's 128 + 2). */
const exitCode = (exit: Exit.Exit<unknown, unknown>): number =>
  Exit.isSuccess(exit)
    ? typeof exit.value === "number" ? exit.value : 0
    : Cause.isInterruptedOnly(exit.cause)
    ? 130
    : 1

// Logs go to stderr: stdout is the command's output (`T=$(cli token s1)` must hold the token alone).
const logToStderr = Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ stderr: true }))

NodeRuntime.runMain(runCli(process.argv).pipe(Effect.provide(Layer.merge(NodeContext.layer, logToStderr))), {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown: (exit, onExit) => onExit(exitCode(exit))
})
