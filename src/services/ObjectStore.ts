import { Context, type Effect, type Option } from "effect"
import { InfraError } from "./InfraError.js"

/**
 * Objects by key in one bucket, as S3: whole-object puts (last writer wins), gets and prefix listings.
 * In memory (`layers/ObjectStoreMemory.ts`) and on S3 (`@aws-sdk/client-s3`, path-style for local servers).
 */

export interface PutOptions {
  readonly contentType?: string
  readonly contentEncoding?: string
}

export interface ObjectSummary {
  readonly key: string
  /** Bytes. */
  readonly size: number
}

export class ObjectStoreError extends InfraError("ObjectStoreError", "object store") {}

export class ObjectStore extends Context.Tag("product-events/ObjectStore")<
  ObjectStore,
  {
    /** Creates or replaces the object: putting the same bytes again under the same key changes nothing. */
    readonly put: (key: string, body: Uint8Array, options?: PutOptions) => Effect.Effect<void, ObjectStoreError>
    readonly get: (key: string) => Effect.Effect<Option.Option<Uint8Array>, ObjectStoreError>
    /** Every object whose key starts with the prefix (all pages), sorted by key as S3 sorts (UTF-8 bytes). */
    readonly list: (prefix: string) => Effect.Effect<ReadonlyArray<ObjectSummary>, ObjectStoreError>
    /** Reachable and serving (the bucket exists): for readiness probes. */
    readonly ping: Effect.Effect<void, ObjectStoreError>
  }
>() {}
