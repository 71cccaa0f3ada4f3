import { Console, type Effect } from "effect"
import { stripVTControlCharacters } from "node:util"

const plain = (arg: unknown): unknown => (typeof arg === "string" ? stripVTControlCharacters(arg) : arg)

/** Colour and styles only where a person reads them: a terminal, unless NO_COLOR is set (no-color.org). */
const styled = (stream: NodeJS.WriteStream): boolean =>
  stream.isTTY === true && (process.env["NO_COLOR"] ?? "") === ""

/**
 * Runs the effect with a console that drops ANSI escape codes (the help and usage errors @effect/cli
 * renders in colour) from what goes to a pipe or a file.
 */
export const plainUnlessTerminal = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Console.consoleWith((console) => {
    const [out, err] = [styled(process.stdout), styled(process.stderr)]
    if (out && err) return effect
    const log = (...args: ReadonlyArray<unknown>) => console.log(...(out ? args : args.map(plain)))
    const error = (...args: ReadonlyArray<unknown>) => console.error(...(err ? args : args.map(plain)))
    return Console.withConsole(effect, {
      ...console,
      log,
      info: log,
      error,
      warn: error,
      unsafe: {
        ...console.unsafe,
        log: (...args) => console.unsafe.log(...(out ? args : args.map(plain))),
        info: (...args) => console.unsafe.info(...(out ? args : args.map(plain))),
        error: (...args) => console.unsafe.error(...(err ? args : args.map(plain))),
        warn: (...args) => console.unsafe.warn(...(err ? args : args.map(plain)))
      }
    })
  })
