import { Command } from "@effect/cli"
import type { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Console, Effect } from "effect"
import { CliExit } from "./CliExit.js"

interface ContractsModule {
  readonly writeContracts: (root: string) => Effect.Effect<void, PlatformError, FileSystem.FileSystem>
  readonly checkContracts: (root: string) => Effect.Effect<ReadonlyArray<string>, PlatformError, FileSystem.FileSystem>
}

// TODO: import statically once src/contracts/Contracts.ts (contracts generation) has landed.
const contractsModule: string = "../contracts/Contracts.js"
const loadContracts = Effect.tryPromise({
  try: () => import(contractsModule) as Promise<ContractsModule>,
  catch: () => new CliExit({ code: 1, message: "contracts generation is not available yet (src/contracts/Contracts.ts)" })
})

const generate = Command.make("generate", {}, () =>
  Effect.gen(function*() {
    const { writeContracts } = yield* loadContracts
    yield* writeContracts(process.cwd())
    yield* Console.log("contracts written")
  })).pipe(Command.withDescription("Write contracts/ from the Effect Schemas in src/domain/."))

const check = Command.make("check", {}, () =>
  Effect.gen(function*() {
    const { checkContracts } = yield* loadContracts
    const problems = yield* checkContracts(process.cwd())
    if (problems.length === 0) return yield* Console.log("contracts up to date")
    yield* Effect.forEach(problems, (problem) => Console.log(problem), { discard: true })
    return yield* new CliExit({ code: 1, message: "contracts out of date: run `npm run contracts`" })
  })).pipe(
    Command.withDescription("Fail, naming the file, when contracts/ differs from the schemas or breaks compatibility.")
  )

export const contracts = Command.make("contracts").pipe(
  Command.withDescription("Generate or check the committed contracts."),
  Command.withSubcommands([generate, check])
)
