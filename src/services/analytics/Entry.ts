import type { Deferred, Tracer } from "effect"
import { type LifecycleEvent } from "../../domain/MetricsDelta.js"
import { encodedProductEvent } from "../../domain/ProductEvent.js"
import type { LifecycleEventJson } from "../../workers/AnalyticsRequests.js"
import type { LogRecord } from "../EventLog.js"

/**
 * What the hot path made of an event: counted under this record, carried by another record (the
 * same event published twice: counted and archived there), or dead-lettered (counted and archived
 * when it is replayed). The archive waits for it: it archives exactly the counted ones.
 */
export type HotOutcome = "pending" | "counted" | "duplicate" | "deadLettered"

/** A unit of work of one partition (a hot batch, an archive file), which a revocation drops. */
export interface PartitionUnit {
  readonly partition: number
  dropped: boolean
}

/** A hot batch as its entries see it: settled once the outcome of each of its entries is final. */
export interface Settles {
  readonly settled: Deferred.Deferred<void>
}

/** One lifecycle event on its way through both paths, encoded once. */
export interface Entry {
  readonly record: LogRecord
  readonly event: LifecycleEvent
  /** The event as JSON: the worker's input. */
  readonly json: LifecycleEventJson
  /** `json` as an NDJSON line: the archive's line and its size. */
  readonly line: string
  hot: HotOutcome
  /** The hot batch the entry is in. */
  batch: Settles | undefined
  /** Paths (hot, cold) that do not have the entry yet. */
  pathsLeft: number
  /** Finishes the record for the engine's commit. */
  readonly finish: () => void
  /**
   * The span the event was appended in, or its producer's (`eventContext`), where spans are exported:
   * the hot batch and the archive upload that hold it stand in its trace (`withBatchSpan`).
   */
  readonly trace: Tracer.AnySpan | undefined
}

export const makeEntry = (record: LogRecord, event: LifecycleEvent, finish: () => void, trace?: Tracer.AnySpan): Entry => {
  const json = encodedProductEvent(event) as LifecycleEventJson
  return { record, event, json, line: JSON.stringify(json), hot: "pending", batch: undefined, pathsLeft: 2, finish, trace }
}

/** The trace contexts of a batch's or a file's entries. */
export const tracesOf = (entries: ReadonlyArray<Entry>): ReadonlyArray<Tracer.AnySpan | undefined> => entries.map((e) => e.trace)

/** One path has the entry (counted, or archived); the record is finished once both have. */
export const pathDone = (entry: Entry): void => {
  if (--entry.pathsLeft === 0) entry.finish()
}

/** `"<partition>:<offset>"`: the source of an event's claim. */
export const sourceOf = (entry: { readonly record: LogRecord }): string => `${entry.record.partition}:${entry.record.offset}`
