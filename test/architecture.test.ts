import { describe, expect, it } from "@effect/vitest"
import { cruise, type ICruiseResult, type IForbiddenRuleType, type ICruiseOptions } from "dependency-cruiser"
import extractTSConfig from "dependency-cruiser/config-utl/extract-ts-config"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"

/** The import rules of src/ (`.dependency-cruiser.cjs`), held against the tree as it is. */

const root = fileURLToPath(new URL("..", import.meta.url))
const config = createRequire(import.meta.url)("../.dependency-cruiser.cjs") as {
  readonly forbidden: ReadonlyArray<IForbiddenRuleType>
  readonly options: ICruiseOptions
}
const tsConfig = extractTSConfig(`${root}tsconfig.json`)

/** The violations of the rules in `baseDir`'s `src/`, one line each: `rule: from → to` (a circle: every step). */
const violations = async (baseDir: string): Promise<ReadonlyArray<string>> => {
  const { output } = await cruise(
    ["src"],
    { ...config.options, baseDir, ruleSet: { forbidden: [...config.forbidden] }, validate: true },
    {},
    { tsConfig }
  )
  const result = output as ICruiseResult
  return result.summary.violations.map((v) =>
    v.cycle === undefined
      ? `${v.rule.name}: ${v.from} → ${v.to}`
      : `${v.rule.name}: ${[v.from, ...v.cycle.map((step) => step.name)].join(" → ")}`
  )
}

describe("architecture", () => {
  it("src/ imports point down the floors of the README, the domain stands alone, the engine's inside stays inside, no circles", async () => {
    expect(await violations(root)).toEqual([])
  }, 60_000)

  it("the rules catch an import that goes up, sideways, into the engine or round in a circle", async () => {
    const found = await violations(`${root}test/fixtures/architecture`)
    expect([...found].sort()).toEqual([
      "domain-imports-down: src/domain/Order.ts → src/services/Orders.ts",
      "domain-stands-alone: src/domain/Order.ts → src/services/Orders.ts",
      "engine-internals: src/http/Route.ts → src/services/consumer/Inner.ts",
      "http-imports-down: src/http/Route.ts → src/layers/Store.ts",
      "no-circular: src/domain/Order.ts → src/services/Orders.ts → src/domain/Order.ts"
    ])
  }, 60_000)
})
