import { Args, Command } from "@effect/cli"
import { Console, Effect, Either, ParseResult } from "effect"
import { decodeProductEvent } from "../domain/ProductEvent.js"
import { CliExit } from "./CliExit.js"
import { type Entry, readEntries } from "./Input.js"

export interface Issue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

export type Outcome =
  | { readonly _tag: "Valid"; readonly index: number; readonly eventId: string }
  | { readonly _tag: "Invalid"; readonly index: number; readonly issues: ReadonlyArray<Issue> }

/** Decodes one entry with the contract's decoder; every issue keeps its path. */
export const validateEntry = (entry: Entry, index: number): Effect.Effect<Outcome> => {
  if (entry._tag === "NotJson") {
    return Effect.succeed({
      _tag: "Invalid",
      index,
      issues: [{ path: [], message: `line ${entry.line} is not JSON: ${entry.message}` }]
    })
  }
  return decodeProductEvent(entry.value).pipe(
    Effect.either,
    Effect.map((result): Outcome =>
      Either.isRight(result)
        ? { _tag: "Valid", index, eventId: result.right.eventId }
        : { _tag: "Invalid", index, issues: ParseResult.ArrayFormatter.formatErrorSync(result.left) }
    )
  )
}

export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.length === 0 ? "(root)" : path.map(String).join(".")

/** One line per valid event, one line per issue of an invalid one. */
export const formatOutcome = (outcome: Outcome): ReadonlyArray<string> =>
  outcome._tag === "Valid"
    ? [`ok ${outcome.eventId}`]
    : outcome.issues.map((issue) =>
      `invalid #${outcome.index}: ${formatPath(issue.path)} ${issue.message.replace(/\s*\n\s*/g, " ")}`
    )

const file = Args.text({ name: "file" }).pipe(
  Args.withDescription("A JSON array, one JSON event, or NDJSON; `-` or nothing reads stdin."),
  Args.withDefault("-")
)

export const validate = Command.make("validate", { file }, ({ file }) =>
  Effect.gen(function*() {
    const entries = yield* readEntries(file)
    let invalid = 0
    for (const [index, entry] of entries.entries()) {
      const outcome = yield* validateEntry(entry, index)
      if (outcome._tag === "Invalid") invalid++
      yield* Console.log(formatOutcome(outcome).join("\n"))
    }
    if (invalid > 0) return yield* new CliExit({ code: 1 })
  })).pipe(
    Command.withDescription(
      "Validate events against the contract. Exit 0: all valid; 1: some invalid; 2: unreadable input."
    )
  )
