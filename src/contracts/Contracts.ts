import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "node:path"
import { Effect } from "effect"
import { renderAsyncApi } from "./asyncapi.js"
import { type CompatibilityMode, compatibilityProblems } from "./compatibility.js"
import { exampleFiles } from "./examples.js"
import { eventContractsJsonSchema } from "./jsonSchema.js"
import { renderMarkdown } from "./markdown.js"
import { renderOpenApi } from "./openapi.js"
import { isSchema } from "./schemaTree.js"

export interface ContractFile {
  readonly path: string
  readonly content: string
}

export const releasedContractPath = "contracts/released/event-contracts.json"
const examplesDir = "contracts/examples"

const json = (u: unknown) => JSON.stringify(u, null, 2) + "\n"

/** Every generated contract file, paths relative to the project root. Pure and deterministic. */
export const renderContracts = (): ReadonlyArray<ContractFile> => [
  { path: "contracts/event-contracts.json", content: json(eventContractsJsonSchema()) },
  ...exampleFiles().map((f) => ({ path: f.path, content: json(f.example) })),
  { path: "contracts/asyncapi.yaml", content: renderAsyncApi() },
  { path: "contracts/openapi.json", content: json(renderOpenApi()) },
  { path: "contracts/event-contracts.md", content: renderMarkdown() }
]

const staleExamples = (fs: FileSystem.FileSystem, root: string, files: ReadonlyArray<ContractFile>) =>
  Effect.gen(function*() {
    const dir = Path.join(root, examplesDir)
    if (!(yield* fs.exists(dir))) return []
    const generated = new Set(files.map((f) => f.path))
    const names = yield* fs.readDirectory(dir)
    return names.filter((n) => n.endsWith(".json")).map((n) => `${examplesDir}/${n}`).filter((p) => !generated.has(p)).sort()
  })

/** Writes the generated contracts under `root`, removing example files no event produces any more. */
export const writeContracts = (root: string): Effect.Effect<void, PlatformError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const files = renderContracts()
    for (const file of files) {
      const target = Path.join(root, file.path)
      yield* fs.makeDirectory(Path.dirname(target), { recursive: true })
      yield* fs.writeFileString(target, file.content)
    }
    for (const stale of yield* staleExamples(fs, root, files)) yield* fs.remove(Path.join(root, stale))
  }).pipe(Effect.withSpan("Contracts.write"))

/** The promise the contract makes (see the evolution rules in event-contracts.md). */
export const compatibilityMode: CompatibilityMode = "FULL"

const compatibility = (fs: FileSystem.FileSystem, root: string) =>
  Effect.gen(function*() {
    const target = Path.join(root, releasedContractPath)
    if (!(yield* fs.exists(target))) {
      return [`${releasedContractPath} is missing: it must hold the JSON Schema of the last released contract`]
    }
    let released: unknown
    try {
      released = JSON.parse(yield* fs.readFileString(target))
    } catch (e) {
      return [`${releasedContractPath} is not valid JSON: ${(e as Error).message}`]
    }
    if (!isSchema(released)) return [`${releasedContractPath} is not a JSON Schema object`]
    return compatibilityProblems(released, eventContractsJsonSchema(), compatibilityMode).map(
      (p) => `not ${compatibilityMode}-compatible with ${releasedContractPath}: ${p}`
    )
  })

/**
 * Regenerates the contracts in memory and compares them with the files under `root`: one line per
 * file that differs, is missing or is no longer generated, plus one per incompatible change (`compatibilityMode`)
 * against the last release. An empty array means the committed contracts are current.
 */
export const checkContracts = (root: string): Effect.Effect<ReadonlyArray<string>, PlatformError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const files = renderContracts()
    const problems: Array<string> = []
    for (const file of files) {
      const target = Path.join(root, file.path)
      if (!(yield* fs.exists(target))) {
        problems.push(`${file.path} is missing: run npm run contracts`)
      } else if ((yield* fs.readFileString(target)) !== file.content) {
        problems.push(`${file.path} differs from what src/domain generates: run npm run contracts`)
      }
    }
    for (const stale of yield* staleExamples(fs, root, files)) {
      problems.push(`${stale} is not generated from src/domain any more: run npm run contracts`)
    }
    problems.push(...(yield* compatibility(fs, root)))
    return problems
  }).pipe(Effect.withSpan("Contracts.check"))
