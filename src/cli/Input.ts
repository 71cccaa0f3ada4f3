import { FileSystem } from "@effect/platform"
import { Effect, Either } from "effect"
import { text } from "node:stream/consumers"
import { CliExit } from "./CliExit.js"

/** One event-to-be of the input: a parsed JSON value, or an NDJSON line that is not JSON. */
export type Entry =
  | { readonly _tag: "Json"; readonly value: unknown }
  | { readonly _tag: "NotJson"; readonly line: number; readonly message: string }

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const tryParse = (source: string): Either.Either<unknown, string> =>
  Either.try({ try: () => JSON.parse(source) as unknown, catch: errorMessage })

/**
 * Splits an input into entries: a JSON array (first non-space character `[`), one JSON document,
 * or NDJSON (one JSON value per line, blank lines skipped). Left: the input cannot be read as any
 * of these (empty, a broken array, or not one line of it is JSON).
 */
export const parseEntries = (input: string): Either.Either<ReadonlyArray<Entry>, string> => {
  const trimmed = input.trimStart()
  if (trimmed === "") return Either.left("input is empty")
  if (trimmed.startsWith("[")) {
    return tryParse(input).pipe(
      Either.mapLeft((message) => `not a JSON array: ${message}`),
      Either.flatMap((value) =>
        !Array.isArray(value)
          ? Either.left("not a JSON array")
          : value.length === 0
          ? Either.left("the JSON array is empty: no events to validate")
          : Either.right(value.map((value): Entry => ({ _tag: "Json", value })))
      )
    )
  }
  const whole = tryParse(input)
  if (Either.isRight(whole)) return Either.right([{ _tag: "Json", value: whole.right }])
  const entries: Array<Entry> = []
  input.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return
    entries.push(
      Either.match(tryParse(line), {
        onLeft: (message): Entry => ({ _tag: "NotJson", line: i + 1, message }),
        onRight: (value): Entry => ({ _tag: "Json", value })
      })
    )
  })
  return entries.every((entry) => entry._tag === "NotJson")
    ? Either.left(`not JSON, a JSON array or NDJSON: ${whole.left}`)
    : Either.right(entries)
}

const readStdin = Effect.suspend(() =>
  process.stdin.isTTY
    ? Effect.fail(new CliExit({ code: 2, message: "no input: pass a file, or pipe events on stdin" }))
    : Effect.tryPromise({
      try: () => text(process.stdin),
      catch: (error) => new CliExit({ code: 2, message: `cannot read stdin: ${errorMessage(error)}` })
    })
)

const readFile = (path: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(path)).pipe(
    Effect.mapError((error) => {
      const why = error._tag === "SystemError" && error.reason === "NotFound"
        ? "no such file"
        : error._tag === "SystemError" && error.reason === "PermissionDenied"
        ? "permission denied"
        : error.description ?? error.message
      return new CliExit({ code: 2, message: `cannot read ${path}: ${why}` })
    })
  )

/** Reads `source` (a path, or `-` for stdin) and splits it into entries; fails with exit code 2. */
export const readEntries = (source: string) =>
  (source === "-" ? readStdin : readFile(source)).pipe(
    Effect.flatMap((input) =>
      Either.match(parseEntries(input), {
        onLeft: (message) => Effect.fail(new CliExit({ code: 2, message: `cannot read ${source === "-" ? "stdin" : source}: ${message}` })),
        onRight: Effect.succeed
      })
    )
  )
