import { Data } from "effect"

/**
 * Ends the CLI with an exit code: 1 when the input was read but something in it is wrong,
 * 2 when the input could not be read at all. `message` goes to stderr as one line.
 */
export class CliExit extends Data.TaggedError("CliExit")<{
  readonly code: 1 | 2
  readonly message?: string
}> {}
