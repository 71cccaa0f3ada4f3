import { describe, expect, it } from "@effect/vitest"
import { Effect, type Layer, Option } from "effect"
import { ObjectStore } from "../../src/services/ObjectStore.js"
import { unique } from "../support/unique.js"

const bytes = (text: string) => new TextEncoder().encode(text)

export const objectStoreContract = <E>(name: string, layer: Layer.Layer<ObjectStore, E>) =>
  describe(name, () => {
    it.layer(layer)((it) => {
      it.effect("get returns the bytes put under the key, and none for a missing key", () =>
        Effect.gen(function*() {
          const store = yield* ObjectStore
          const key = `${unique("contract")}/events/a.ndjson.gz`
          const body = Uint8Array.from([0x1f, 0x8b, 0, 255, 1, 2, 3])
          yield* store.put(key, body, { contentType: "application/x-ndjson", contentEncoding: "gzip" })
          expect(yield* store.get(key)).toEqual(Option.some(body))
          expect(yield* store.get(`${key}.missing`)).toEqual(Option.none())
        }))

      it.effect("a put overwrites; the same bytes again change nothing", () =>
        Effect.gen(function*() {
          const store = yield* ObjectStore
          const prefix = `${unique("contract")}/`
          const key = `${prefix}object`
          yield* store.put(key, bytes("first"))
          yield* store.put(key, bytes("second, longer"))
          expect(yield* store.get(key)).toEqual(Option.some(bytes("second, longer")))
          yield* store.put(key, bytes("second, longer"))
          expect(yield* store.list(prefix)).toEqual([{ key, size: 14 }])
        }))

      it.effect("an empty object is an object", () =>
        Effect.gen(function*() {
          const store = yield* ObjectStore
          const key = `${unique("contract")}/empty`
          yield* store.put(key, new Uint8Array(0))
          expect(yield* store.get(key)).toEqual(Option.some(new Uint8Array(0)))
          expect(yield* store.list(key)).toEqual([{ key, size: 0 }])
        }))

      it.effect("a stored object does not change when the caller's buffer does", () =>
        Effect.gen(function*() {
          const store = yield* ObjectStore
          const key = `${unique("contract")}/copy`
          const body = bytes("original")
          yield* store.put(key, body)
          body.fill(0)
          const read = yield* store.get(key)
          Option.map(read, (b) => b.fill(0))
          expect(yield* store.get(key)).toEqual(Option.some(bytes("original")))
        }))

      it.effect("list returns every key under the prefix, at any depth, sorted, with sizes", () =>
        Effect.gen(function*() {
          const store = yield* ObjectStore
          const prefix = `${unique("contract")}/events/`
          const keys = [
            "date=2026-11-27/hour=00/p0-10-19.ndjson.gz",
            "date=2026-11-26/hour=20/p1-0-9.ndjson.gz",
            "date=2026-11-26/hour=20/p0-0-9.ndjson.gz",
            "date=2026-11-26/hour=03/p0-0-9.ndjson.gz"
          ]
          yield* Effect.forEach(keys, (k, i) => store.put(prefix + k, new Uint8Array(i + 1)))
          yield* store.put(`${prefix.slice(0, -1)}-not-under-prefix`, bytes("x"))
          expect(yield* store.list(prefix)).toEqual([
            { key: `${prefix}date=2026-11-26/hour=03/p0-0-9.ndjson.gz`, size: 4 },
            { key: `${prefix}date=2026-11-26/hour=20/p0-0-9.ndjson.gz`, size: 3 },
            { key: `${prefix}date=2026-11-26/hour=20/p1-0-9.ndjson.gz`, size: 2 },
            { key: `${prefix}date=2026-11-27/hour=00/p0-10-19.ndjson.gz`, size: 1 }
          ])
          expect(yield* store.list(`${prefix}date=2026-11-26/hour=20/`)).toHaveLength(2)
          expect(yield* store.list(`${unique("contract")}/`)).toEqual([])
        }))

      it.effect("list returns all of more than one page (S3 pages hold 1,000 keys)", () =>
        Effect.gen(function*() {
          const store = yield* ObjectStore
          const prefix = `${unique("contract")}/many/`
          const keys = Array.from({ length: 1_005 }, (_, i) => `${prefix}${String(i).padStart(5, "0")}`)
          yield* Effect.forEach(keys, (k) => store.put(k, bytes("x")), { concurrency: 16 })
          const listed = yield* store.list(prefix)
          expect(listed.map((o) => o.key)).toEqual(keys)
        }))
    })
  })
