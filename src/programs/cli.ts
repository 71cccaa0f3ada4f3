import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit } from "effect"
import { runCli } from "../cli/Main.js"

/** The exit code of a run: the CLI's own, 130 when Ctrl-C (SIGINT) interrupted it (the shell's 128 + 2). */
const exitCode = (exit: Exit.Exit<unknown, unknown>): number =>
  Exit.isSuccess(exit)
    ? typeof exit.value === "number" ? exit.value : 0
    : Cause.isInterruptedOnly(exit.cause)
    ? 130
    : 1

NodeRuntime.runMain(runCli(process.argv).pipe(Effect.provide(NodeContext.layer)), {
  disableErrorReporting: true,
  teardown: (exit, onExit) => onExit(exitCode(exit))
})
