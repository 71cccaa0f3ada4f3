import type { LifecycleEvent } from "../../domain/MetricsDelta.js"
import type { LifecycleEventJson } from "../../workers/AnalyticsRequests.js"
import type { LogRecord } from "../EventLog.js"

/** One event in an archive file: its source record, the event, and the event as JSON. */
export interface ArchiveEntry {
  readonly record: LogRecord
  readonly event: LifecycleEvent
  /** The event as JSON: the worker's input and, stringified, the archive's line. */
  readonly json: LifecycleEventJson
}
