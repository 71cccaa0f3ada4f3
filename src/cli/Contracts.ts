import { Command } from "@effect/cli"
import { Console, Effect } from "effect"
import { checkContracts, writeContracts } from "../contracts/Contracts.js"
import { CliExit } from "./CliExit.js"

const generate = Command.make("generate", {}, () =>
  writeContracts(process.cwd()).pipe(Effect.zipRight(Console.log("contracts written")))
).pipe(Command.withDescription("Write contracts/ from the Effect Schemas in src/domain/."))

const check = Command.make("check", {}, () =>
  Effect.gen(function*() {
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
