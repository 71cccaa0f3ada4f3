import { Effect, ParseResult, Schema } from "effect"
import { encodeArchive } from "../domain/ArchiveEncoding.js"
import { type Delta, deltasBySeller, LifecycleEvent } from "../domain/MetricsDelta.js"
import { InvalidEvents, type LifecycleEventJson } from "./AnalyticsRequests.js"

/** The work the analytics workers do, as plain effects: run in a worker thread or inline. */

const decodeEvents = Schema.decodeUnknown(Schema.Array(LifecycleEvent), { errors: "first", onExcessProperty: "ignore" })

export const aggregate = (events: ReadonlyArray<LifecycleEventJson>): Effect.Effect<Record<string, Delta>, InvalidEvents> =>
  decodeEvents(events).pipe(
    Effect.mapError((e) => new InvalidEvents({ message: ParseResult.TreeFormatter.formatErrorSync(e) })),
    Effect.map(deltasBySeller)
  )

export const encode = (lines: ReadonlyArray<string>): Effect.Effect<Uint8Array> => Effect.sync(() => encodeArchive(lines))
