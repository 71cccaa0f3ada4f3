import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Console, Effect, Either, Option, SchemaAST } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseEntries } from "../../src/cli/Input.js"
import { runCli } from "../../src/cli/Main.js"
import { ProductCreated } from "../../src/domain/ProductEvent.js"

const example = Option.getOrThrow(SchemaAST.getExamplesAnnotation(ProductCreated.ast))[0] as { readonly eventId: string }

describe("parseEntries", () => {
  it("reads a JSON array, one document, or NDJSON", () => {
    expect(parseEntries(' \n[1, {"a": 2}]')).toEqual(Either.right([{ _tag: "Json", value: 1 }, { _tag: "Json", value: { a: 2 } }]))
    expect(parseEntries('{\n  "a": 1\n}\n')).toEqual(Either.right([{ _tag: "Json", value: { a: 1 } }]))
    expect(parseEntries('{"a":1}\n\n  \n{oops\n{"b":2}\r\n')).toEqual(Either.right([
      { _tag: "Json", value: { a: 1 } },
      { _tag: "NotJson", line: 4, message: expect.any(String) },
      { _tag: "Json", value: { b: 2 } }
    ]))
  })

  it("refuses what is none of those", () => {
    expect(parseEntries("  \n")).toEqual(Either.left("input is empty"))
    expect(parseEntries(" [ ]\n")).toEqual(Either.left("the JSON array is empty: no events to validate"))
    expect(Either.getLeft(parseEntries('[{"a":1},'))).toEqual(Option.some(expect.stringMatching(/^not a JSON array: /)))
    expect(Either.getLeft(parseEntries("{\n \"a\": 1,,\n}"))).toEqual(
      Option.some(expect.stringMatching(/^not JSON, a JSON array or NDJSON: /))
    )
  })
})

/** Runs the CLI in-process and returns its exit code and what it printed. */
const run = (...args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    const err: Array<string> = []
    const code = yield* Console.consoleWith((base) =>
      runCli(["node", "cli.ts", ...args]).pipe(
        Effect.withConsole({
          ...base,
          log: (...xs: ReadonlyArray<unknown>) => Effect.sync(() => void out.push(xs.join(" "))),
          error: (...xs: ReadonlyArray<unknown>) => Effect.sync(() => void err.push(xs.join(" ")))
        })
      )
    )
    return { code, out: out.join("\n"), err: err.join("\n") }
  }).pipe(Effect.provide(NodeContext.layer))

describe("runCli exit codes", () => {
  const dir = mkdtempSync(join(tmpdir(), "product-events-main-"))
  const file = (name: string, content: string) => (writeFileSync(join(dir, name), content), join(dir, name))

  it.effect("0 when every event is valid", () =>
    Effect.gen(function*() {
      const result = yield* run("validate", file("ok.json", JSON.stringify([example, example])))
      expect(result).toEqual({ code: 0, out: `ok ${example.eventId}\nok ${example.eventId}`, err: "" })
    }))

  it.effect("1 when any event is invalid, one line per issue", () =>
    Effect.gen(function*() {
      const result = yield* run("validate", file("bad.json", JSON.stringify([example, { eventType: "ProductCreated" }])))
      expect(result.code).toBe(1)
      expect(result.out.split("\n")).toEqual([
        `ok ${example.eventId}`,
        "invalid #1: eventId is missing",
        "invalid #1: timestamp is missing",
        "invalid #1: data is missing"
      ])
    }))

  it.effect("2 on unreadable input or bad usage", () =>
    Effect.gen(function*() {
      expect(yield* run("validate", join(dir, "nope.json"))).toMatchObject({ code: 2, err: expect.stringMatching(/no such file$/) })
      expect(yield* run("validate", file("broken.json", "[1,"))).toMatchObject({ code: 2, err: expect.stringMatching(/not a JSON array/) })
      expect(yield* run("validate", dir)).toMatchObject({ code: 2 })
      expect((yield* run("token", "seller-1")).code).toBe(2)
      expect((yield* run("token", "s1", "--expires-in", "soon")).code).toBe(2)
      expect((yield* run("frobnicate")).code).toBe(2)
    }))

  it.effect("token --service signs a service token", () =>
    Effect.gen(function*() {
      const { code, out } = yield* run("token", "s1", "--service", "--expires-in", "30m")
      expect(code).toBe(0)
      const payload = JSON.parse(Buffer.from(out.split(".")[1]!, "base64url").toString()) as Record<string, unknown>
      expect(payload).toMatchObject({ sellerId: "s1", role: "service" })
      expect((payload.exp as number) - (payload.iat as number)).toBe(1800)
    }))
})
