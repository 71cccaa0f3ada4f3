import * as Transferable from "@effect/platform/Transferable"
import { Schema } from "effect"
import { isArchiveLine } from "../domain/ArchiveEncoding.js"
import { type Delta, LifecycleEvent } from "../domain/MetricsDelta.js"

/** Lifecycle events as JSON on the wire; the worker decodes (and validates) them. Decoded events fit this type too. */
export const LifecycleEventJson = Schema.encodedSchema(LifecycleEvent)
export type LifecycleEventJson = typeof LifecycleEventJson.Type

/** A batch holds an event that is not a valid lifecycle event: the batch is refused as a whole. */
export class InvalidEvents extends Schema.TaggedError<InvalidEvents>()("InvalidEvents", {
  message: Schema.String
}) {
  readonly retriable = false
}

/**
 * Between this process and its own worker threads values are structurally cloned, and checking them
 * with a full schema on both sides costs more than the work sent away. The batch is decoded once, in
 * the worker (`AnalyticsTasks.aggregate`); the deltas the worker answers with are taken as they come.
 */
const trusted = <A>(identifier: string, is: (u: unknown) => boolean) =>
  Schema.declare((u: unknown): u is A => is(u), { identifier })

const EventBatch = trusted<ReadonlyArray<LifecycleEventJson>>("LifecycleEventBatch", Array.isArray)
export const DeltasBySeller = trusted<Record<string, Delta>>(
  "DeltasBySeller",
  (u) => typeof u === "object" && u !== null && !Array.isArray(u)
)

export class Aggregate extends Schema.TaggedRequest<Aggregate>()("Aggregate", {
  failure: InvalidEvents,
  success: DeltasBySeller,
  payload: { events: EventBatch }
}) {}

const ArchiveLine = Schema.String.pipe(Schema.filter(isArchiveLine, { message: () => "an NDJSON line must not contain a line break" }))

export class EncodeArchive extends Schema.TaggedRequest<EncodeArchive>()("EncodeArchive", {
  failure: Schema.Never,
  success: Transferable.Uint8Array,
  payload: { lines: Schema.Array(ArchiveLine) }
}) {}

export const AnalyticsRequest = Schema.Union(Aggregate, EncodeArchive)
export type AnalyticsRequest = typeof AnalyticsRequest.Type
