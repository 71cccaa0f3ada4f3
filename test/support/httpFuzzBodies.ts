import fc from "fast-check"
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { type EventType, makeEventId } from "../../src/domain/ProductEvent.js"
import { type Json, pathsOf, setAt } from "./jsonPaths.js"

/**
 * Request bodies for the HTTP fuzz test (support/httpFuzz.ts), from the contract's examples to hostile
 * bytes, each with what it is: valid events of the examples' seller, valid events of other sellers,
 * mutated, invalid, near and over the body limit, none.
 */

/** The seller of the contract examples. */
export const examplesSeller = "seller_42"


const examplesDir = fileURLToPath(new URL("../../contracts/examples/", import.meta.url))
export const examples: ReadonlyArray<Json> = readdirSync(examplesDir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => JSON.parse(readFileSync(examplesDir + f, "utf8")) as Json)

interface Envelope {
  readonly eventType: EventType
  readonly timestamp: string
  readonly data: { readonly sellerId: string; readonly productId: string }
}

/** A contract example moved to another seller and product: still valid, with its eventId agreeing. */
const moved = ([example, sellerId, productId]: readonly [Json, string, string]): Json => {
  const event = example as unknown as Envelope
  return {
    ...(example as object),
    eventId: makeEventId(sellerId, productId, event.eventType, event.timestamp),
    data: { ...event.data, sellerId, productId }
  } as Json
}

const id = fc.stringMatching(/^[A-Za-z0-9_]{1,64}$/)

const deepMarker = "\u0000deep:"

const nested = (depth: number, open: string, close: string, inner = "1") => open.repeat(depth) + inner + close.repeat(depth)

/** Values near the schema's edges, hostile shapes, and arbitrary JSON. */
const edgeValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    -1, 0, 1.5, 2 ** 53, 1e308, "", "x".repeat(65), "😀".repeat(201), "\u0000", "\ud800", "seller-42", "2026-02-30T00:00:00.000Z",
    "__proto__", { __proto__: null }, [], {}, null, true
  ),
  // deep nesting as a marker `json` replaces with the text: JSON.stringify itself would overflow the stack
  fc.constantFrom(10, 1000, 5000).map((depth): Json => `${deepMarker}${depth}`),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>
)

/** A contract example with one value replaced at a random path, or removed. */
const mutatedExample = fc.tuple(fc.constantFrom(...examples), fc.nat(), fc.option(edgeValue, { nil: undefined }))
  .map(([event, at, value]) => {
    const paths = pathsOf(event)
    return setAt(event, paths[at % paths.length]!, value)
  })

const json = (value: unknown) =>
  Buffer.from(JSON.stringify(value).replace(/"\\u0000deep:(\d+)"/g, (_, depth: string) => nested(Number(depth), "[", "]")))

const paddedBodies = new Map<string, Buffer>()

/**
 * A batch of events padded with trailing whitespace to exactly `size` bytes (one Buffer per kind and size):
 * all valid, or with a last one that is not (read and validated whole, but nothing to publish).
 */
const padded = (size: number, valid: boolean) => {
  const key = `${size}:${valid}`
  const known = paddedBodies.get(key)
  if (known !== undefined) return known
  const events: Array<Json> = []
  let text = "[]"
  while (Buffer.byteLength(text) < size - 2048) {
    events.push(examples[events.length % examples.length]!)
    text = JSON.stringify(valid ? events : [...events, {}])
  }
  const body = Buffer.concat([Buffer.from(text), Buffer.alloc(Math.max(0, size - Buffer.byteLength(text)), " ")])
  paddedBodies.set(key, body)
  return body
}

export type BodyKind = "valid" | "validBatch" | "foreign" | "mutated" | "invalid" | "large" | "tooLarge" | "none"

/** Bodies for any request, each with what it is (so that POST /events knows what to expect). */
export interface Body {
  readonly kind: BodyKind
  readonly bytes: Buffer | undefined
}

export const bodies = (maxBody: number): fc.Arbitrary<Body> => {
  const of = (kind: BodyKind) => (bytes: Buffer | undefined): Body => ({ kind, bytes })
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...examples).map(json).map(of("valid")) },
    { weight: 2, arbitrary: fc.subarray([...examples], { minLength: 1 }).map(json).map(of("validBatch")) },
    // generated valid events of other sellers: only a service token may publish them
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...examples), id.filter((s) => s !== examplesSeller), id).map(moved).map(json).map(of("foreign")) },
    // mostly invalid, sometimes still valid (a value replaced by one the schema also accepts)
    { weight: 6, arbitrary: mutatedExample.map(json).map(of("mutated")) },
    {
      weight: 4,
      arbitrary: fc.oneof(
        (fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>).map(json),
        fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)),
        // invalid UTF-8 inside an otherwise valid event's string
        fc.constantFrom(Buffer.from([0xc3, 0x28]), Buffer.from([0xff, 0xfe]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]))
          .map((bad) => {
            const text = JSON.stringify(examples[0])
            const at = text.indexOf("Walnut")
            return Buffer.concat([Buffer.from(text.slice(0, at)), bad, Buffer.from(text.slice(at))])
          }),
        fc.constantFrom("", " ", "[]", "{}", "null", "[null]", "\"x\"", "1e999", "{\"__proto__\":{\"x\":1}}", "[{}]", "\ufeff{}").map((s) => Buffer.from(s)),
        // deeply nested, up to the body limit
        fc.constantFrom(1000, 20_000, Math.floor(maxBody / 2) - 1).map((depth) => Buffer.from(nested(depth, "[", "]"))),
        fc.constantFrom(1000, Math.floor(maxBody / 6)).map((depth) => Buffer.from(nested(depth, "{\"a\":", "}"))),
        fc.string({ unit: "binary", maxLength: 300 }).map((s) => Buffer.from(s))
      ).map(of("invalid"))
    },
    // at the limit: mostly invalid (validated whole, nothing published: the consumers' work stays small)
    {
      weight: 1,
      arbitrary: fc.oneof(
        { weight: 1, arbitrary: fc.constantFrom(maxBody - 1, maxBody).map((size) => of("large")(padded(size, true))) },
        { weight: 3, arbitrary: fc.constantFrom(maxBody - 1, maxBody).map((size) => of("invalid")(padded(size, false))) }
      )
    },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.constantFrom(maxBody + 1, 2 * maxBody).map((size) => padded(size, true)),
        fc.constant(Buffer.alloc(maxBody + 1, "["))
      ).map(of("tooLarge"))
    },
    { weight: 3, arbitrary: fc.constant(of("none")(undefined)) }
  )
}
