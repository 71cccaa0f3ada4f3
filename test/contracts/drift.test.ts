import * as FileSystem from "@effect/platform/FileSystem"
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { checkContracts, releasedContractPath, renderContracts, writeContracts } from "../../src/contracts/Contracts.js"

const projectRoot = fileURLToPath(new URL("../..", import.meta.url))

/** A fresh copy of the generated contracts (and the current schema as the release) in a temp dir. */
const freshCopy = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const dir = yield* fs.makeTempDirectoryScoped({ prefix: "contracts-" })
  yield* writeContracts(dir)
  yield* fs.makeDirectory(Path.join(dir, "contracts/released"), { recursive: true })
  yield* fs.copyFile(Path.join(dir, "contracts/event-contracts.json"), Path.join(dir, releasedContractPath))
  return { fs, dir }
})

describe("contracts drift", () => {
  it("renders deterministically, every file ending in a newline", () => {
    const a = renderContracts()
    expect(renderContracts()).toEqual(a)
    expect(a.map((f) => f.path)).toEqual(expect.arrayContaining([
      "contracts/event-contracts.json",
      "contracts/asyncapi.yaml",
      "contracts/openapi.json",
      "contracts/event-contracts.md",
      "contracts/examples/ProductCreated.json",
      "contracts/examples/ProductUpdated.json",
      "contracts/examples/ProductDeleted.json",
      "contracts/examples/LowStockWarning.json"
    ]))
    for (const f of a) expect(f.content.endsWith("\n"), f.path).toBe(true)
  })

  it.effect("the committed contracts are what src/domain generates (run npm run contracts if this fails)", () =>
    Effect.gen(function*() {
      expect(yield* checkContracts(projectRoot)).toEqual([])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("a fresh copy checks clean", () =>
    Effect.gen(function*() {
      const { dir } = yield* freshCopy
      expect(yield* checkContracts(dir)).toEqual([])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("a hand edit is reported, naming the file", () =>
    Effect.gen(function*() {
      const { dir, fs } = yield* freshCopy
      const target = Path.join(dir, "contracts/asyncapi.yaml")
      const text = yield* fs.readFileString(target)
      yield* fs.writeFileString(target, text.replace("partitions: 12", "partitions: 24"))
      expect(yield* checkContracts(dir)).toEqual([
        "contracts/asyncapi.yaml differs from what src/domain generates: run npm run contracts"
      ])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("a missing file and a stale example are reported", () =>
    Effect.gen(function*() {
      const { dir, fs } = yield* freshCopy
      yield* fs.remove(Path.join(dir, "contracts/event-contracts.md"))
      yield* fs.writeFileString(Path.join(dir, "contracts/examples/ProductRenamed.json"), "{}\n")
      expect(yield* checkContracts(dir)).toEqual([
        "contracts/event-contracts.md is missing: run npm run contracts",
        "contracts/examples/ProductRenamed.json is not generated from src/domain any more: run npm run contracts"
      ])
      yield* writeContracts(dir)
      expect(yield* checkContracts(dir)).toEqual([])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("a change incompatible with the release is reported, in either direction (FULL)", () =>
    Effect.gen(function*() {
      const { dir, fs } = yield* freshCopy
      const released = JSON.parse(yield* fs.readFileString(Path.join(dir, releasedContractPath)))
      // The release had a field the current schema lacks: the current schema removed it.
      released.$defs.LowStockWarningData.properties.category = { type: "string" }
      yield* fs.writeFileString(Path.join(dir, releasedContractPath), JSON.stringify(released))
      // ...and had one currency fewer: the current schema added it, which consumers of the release reject.
      released.$defs.Currency.enum = released.$defs.Currency.enum.filter((c: string) => c !== "USD")
      yield* fs.writeFileString(Path.join(dir, releasedContractPath), JSON.stringify(released))
      expect(yield* checkContracts(dir)).toEqual([
        `not FULL-compatible with ${releasedContractPath}: LowStockWarning.data.category: property removed (or renamed)`,
        `not FULL-compatible with ${releasedContractPath}: ProductCreated.data.product.price.currency: enum values added: "USD"`
      ])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("a missing or unreadable release is reported", () =>
    Effect.gen(function*() {
      const { dir, fs } = yield* freshCopy
      yield* fs.writeFileString(Path.join(dir, releasedContractPath), "{ not json")
      const [problem] = yield* checkContracts(dir)
      expect(problem).toMatch(/^contracts\/released\/event-contracts\.json is not valid JSON/)
      yield* fs.remove(Path.join(dir, releasedContractPath))
      expect(yield* checkContracts(dir)).toEqual([
        `${releasedContractPath} is missing: it must hold the JSON Schema of the last released contract`
      ])
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
