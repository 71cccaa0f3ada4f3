import { Command, ValidationError } from "@effect/cli"
import { Cause, Console, Effect, Option } from "effect"
import { CliExit } from "./CliExit.js"
import { contracts } from "./Contracts.js"
import { dlq } from "./Dlq.js"
import { plainUnlessTerminal } from "./Output.js"
import { token } from "./Token.js"
import { validate } from "./Validate.js"

export const command = Command.make("product-events").pipe(
  Command.withDescription("Tools for the product-events contracts and services."),
  Command.withSubcommands([validate, token, contracts, dlq])
)

const cli = Command.run(command, { name: "product-events", version: "0.1.0" })

const oneLine = (text: string): string => text.split("\n")[0]!.trim()

/**
 * Runs the CLI and resolves to the process exit code: 0 success, 1 a failure of what was asked
 * (invalid events, contracts out of date), 2 unreadable input or bad usage. Errors are printed
 * as one line on stderr, never as a stack trace.
 */
export const runCli = (argv: ReadonlyArray<string>) =>
  plainUnlessTerminal(cli(argv)).pipe(
    Effect.as(0),
    Effect.catchAllCause((cause) => {
      const failure = Cause.failureOption(cause)
      if (Option.isSome(failure)) {
        const error = failure.value
        if (error instanceof CliExit) {
          // An Error's message is "" when none was given.
          return error.message === ""
            ? Effect.succeed(error.code)
            : Console.error(error.message).pipe(Effect.as(error.code))
        }
        // @effect/cli has already printed the usage problem.
        if (ValidationError.isValidationError(error)) return Effect.succeed(2)
        return Console.error(`error: ${oneLine(error.message)}`).pipe(Effect.as(1))
      }
      if (Cause.isInterruptedOnly(cause)) return Effect.succeed(130)
      const defect = Cause.squash(cause)
      return Console.error(`internal error: ${oneLine(defect instanceof Error ? defect.message : String(defect))}`).pipe(
        Effect.as(70)
      )
    })
  )
