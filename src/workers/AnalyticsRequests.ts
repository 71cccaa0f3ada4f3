import * as Transferable from "@effect/platform/Transferable"
import { Schema } from "effect"
import { isArchiveLine } from "../domain/ArchiveEncoding.js"
import { Delta, LifecycleEvent } from "../domain/MetricsDelta.js"

/** Lifecycle events as JSON on the wire; the worker decodes (and validates) them. Decoded events fit this type too. */
export const LifecycleEventJson = Schema.encodedSchema(LifecycleEvent)
export type LifecycleEventJson = typeof LifecycleEventJson.Type

/** A batch holds an event that is not a valid lifecycle event: the batch is refused as a whole. */
export class InvalidEvents extends Schema.TaggedError<InvalidEvents>()("InvalidEvents", {
  message: Schema.String
}) {
  readonly retriable = false
}

export const DeltasBySeller = Schema.Record({ key: Schema.String, value: Delta })

export class Aggregate extends Schema.TaggedRequest<Aggregate>()("Aggregate", {
  failure: InvalidEvents,
  success: DeltasBySeller,
  payload: { events: Schema.Array(LifecycleEventJson) }
}) {}

const ArchiveLine = Schema.String.pipe(Schema.filter(isArchiveLine, { message: () => "an NDJSON line must not contain a line break" }))

export class EncodeArchive extends Schema.TaggedRequest<EncodeArchive>()("EncodeArchive", {
  failure: Schema.Never,
  success: Transferable.Uint8Array,
  payload: { lines: Schema.Array(ArchiveLine) }
}) {}

export const AnalyticsRequest = Schema.Union(Aggregate, EncodeArchive)
export type AnalyticsRequest = typeof AnalyticsRequest.Type
