import { Effect, Layer, Option, Ref } from "effect"
import { compareKeyBytes } from "../services/KeyOrder.js"
import { ObjectStore, type PutOptions } from "../services/ObjectStore.js"

interface StoredObject {
  readonly body: Uint8Array
  readonly options: PutOptions
}

/** S3 lists keys in UTF-8 byte order. */

export const make = Effect.gen(function*() {
  const objects = yield* Ref.make<ReadonlyMap<string, StoredObject>>(new Map())

  // Bodies are copied in and out: neither the caller nor a reader can change a stored object.
  const put = Effect.fn("ObjectStore.put")((key: string, body: Uint8Array, options: PutOptions = {}) =>
    Ref.update(objects, (all) => new Map(all).set(key, { body: Uint8Array.from(body), options }))
  )

  const get = Effect.fn("ObjectStore.get")((key: string) =>
    Effect.map(
      Ref.get(objects),
      (all) => Option.map(Option.fromNullable(all.get(key)), (object) => Uint8Array.from(object.body))
    )
  )

  const list = Effect.fn("ObjectStore.list")((prefix: string) =>
    Effect.map(Ref.get(objects), (all) =>
      [...all.entries()]
        .filter(([key]) => key.startsWith(prefix))
        .sort(([a], [b]) => compareKeyBytes(a, b))
        .map(([key, object]) => ({ key, size: object.body.byteLength })))
  )

  return ObjectStore.of({ put, get, list, ping: Effect.void.pipe(Effect.withSpan("ObjectStore.ping")) })
})

/** A fresh, empty bucket per layer build. */
export const layerMemory = Layer.effect(ObjectStore, make)
