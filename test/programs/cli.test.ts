import { Effect, Option, Redacted, SchemaAST } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { ProductCreated } from "../../src/domain/ProductEvent.js"
import { verifyToken } from "../../src/services/Tokens.js"
import { type Run, runCli } from "./run.js"

const example = Option.getOrThrow(SchemaAST.getExamplesAnnotation(ProductCreated.ast))[0] as {
  readonly eventId: string
  readonly data: Record<string, unknown>
}
const otherSeller = { ...example, eventId: example.eventId.replace("seller_42", "seller_43") }
const badLine = { ...example, data: { ...example.data, sellerId: "seller 42" } }
const secret = "cli-test-secret-0123456789abcdef012345"

// Spawning a process is slow: the runs start together, once.
const runs: Record<string, Run> = {}
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "product-events-cli-"))
  const file = (name: string, content: string) => (writeFileSync(join(dir, name), content), join(dir, name))
  const [valid, inconsistent, token, underJwks, ndjson, missing, unreachable, help, badOption] = await Promise.all([
    runCli(["validate", file("valid.json", JSON.stringify(example, null, 2))]),
    runCli(["validate", file("other-seller.json", JSON.stringify([otherSeller]))]),
    runCli(["token", "s1"], { env: { AUTH_JWT_SECRET: secret } }),
    runCli(["token", "s1"], { env: { AUTH_JWT_SECRET: secret, AUTH_JWKS_URL: "http://127.0.0.1:1/jwks.json" } }),
    runCli(["validate", "-"], { stdin: `${JSON.stringify(example)}\n{not json\n${JSON.stringify(badLine)}\n` }),
    runCli(["validate", join(dir, "missing.json")]),
    // Nothing listens on port 1: the Kafka client gives up after its retries.
    runCli(["dlq", "replay", "--group", "notification-service", "--dry-run"], { env: { KAFKA_BROKERS: "127.0.0.1:1" } }),
    runCli(["--help"]),
    runCli(["dlq", "replay", "--group", "nobody"])
  ])
  Object.assign(runs, { valid, inconsistent, token, underJwks, ndjson, missing, unreachable, help, badOption })
}, 120_000)

describe("product-events CLI", () => {
  it("validate: a valid event exits 0 and prints ok <eventId>", () => {
    expect(runs.valid).toMatchObject({ code: 0, stdout: `ok ${example.eventId}\n` })
  })

  it("validate: an eventId naming another seller exits 1 and names the path", () => {
    expect(runs.inconsistent!.code).toBe(1)
    expect(runs.inconsistent!.stdout).toMatch(/^invalid #0: eventId must equal seller_42-sku_1001-ProductCreated-/)
  })

  it("validate -: NDJSON from stdin with a non-JSON line and an invalid event exits 1", () => {
    expect(runs.ndjson!.code).toBe(1)
    expect(runs.ndjson!.stdout.trimEnd().split("\n")).toEqual([
      `ok ${example.eventId}`,
      expect.stringMatching(/^invalid #1: \(root\) line 2 is not JSON: /),
      "invalid #2: data.sellerId must be 1-64 characters of A-Z, a-z, 0-9 or _"
    ])
  })

  it("validate: a missing file exits 2 with one line on stderr and no stack trace", () => {
    expect(runs.missing!.code).toBe(2)
    expect(runs.missing!.stdout).toBe("")
    expect(runs.missing!.stderr).toMatch(/^cannot read .*missing\.json: no such file\n$/)
    expect(runs.missing!.stderr).not.toMatch(/\s+at /)
  })

  it("token: prints only a token that verifies with sellerId s1", async () => {
    expect(runs.token!.code).toBe(0)
    const token = runs.token!.stdout.trim()
    expect(runs.token!.stdout).toBe(`${token}\n`)
    const claims = await Effect.runPromise(verifyToken(Redacted.make(secret), token))
    expect(claims).toEqual({ sellerId: "s1", role: "seller", exp: expect.any(Number) })
  })

  it("token: refused while AUTH_JWKS_URL is set (the services would refuse an HS256 token), saying so in one line", () => {
    expect(runs.underJwks).toMatchObject({ code: 1, stdout: "" })
    expect(runs.underJwks!.stderr).toMatch(/^error: AUTH_JWKS_URL is set: the services verify tokens with the identity provider's keys/)
    expect(runs.underJwks!.stderr.trimEnd().split("\n")).toHaveLength(1)
  })

  it("dlq replay: an unreachable broker exits 1 with a last line naming the operation and the address", () => {
    expect(runs.unreachable!.code).toBe(1)
    expect(runs.unreachable!.stderr.trimEnd().split("\n").at(-1)).toMatch(
      /^error: event log connect failed: .*ECONNREFUSED 127\.0\.0\.1:1$/
    )
  })

  it("help and usage errors to a pipe are plain text: no colour or style codes", () => {
    expect(runs.help).toMatchObject({ code: 0, stderr: "" })
    expect(runs.help!.stdout).toMatch(/^product-events\n/)
    expect(runs.help!.stdout).toContain("validate")
    expect(runs.badOption!.code).toBe(2)
    expect(runs.badOption!.stderr).toContain("Expected one of the following cases: notification-service, analytics-service")
    // ESC, as in "\x1b[0;1m"
    expect(`${runs.help!.stdout}${runs.badOption!.stderr}`).not.toContain("\x1b")
  })
})
