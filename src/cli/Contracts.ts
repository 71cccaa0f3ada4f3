import { Command } from "@effect/cli"
import { Console, Effect } from "effect"
import { CliExit } from "./CliExit.js"

// Loaded on use: the other commands need none of the document generators.
const generators = Effect.promise(() => import("../contracts/Contracts.js"))

const generate = Command.make("generate", {}, () =>
  generators.pipe(
    Effect.flatMap(({ writeContracts }) => writeContracts(process.cwd())),
    Effect.zipRight(Console.log("contracts written"))
  )
).pipe(Command.withDescription("Write contracts/ from the Effect Schemas in src/domain/."))

const check = Command.make("check", {}, () =>
  Effect.gen(function*() {
    const { checkContracts } = yield* generators
    const problems = yield* checkContracts(process.cwd())
    if (problems.length === 0) return yield* Console.log("contracts up to date")
    yield* Effect.forEach(problems, (problem) => Console.log(problem), { discard: true })
    return yield* new CliExit({ code: 1, message: `contracts check failed: ${problems.length} problem(s)` })
  })).pipe(
    Command.withDescription("Fail, naming the file, when contracts/ differs from the schemas or breaks compatibility.")
  )

export const contracts = Command.make("contracts").pipe(
  Command.withDescription("Generate or check the committed contracts."),
  Command.withSubcommands([generate, check])
)
