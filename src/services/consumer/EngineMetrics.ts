import { eventTypes } from "../../domain/ProductEvent.js"
import type { LogRecord } from "../EventLog.js"
import type { Metrics } from "../Metrics.js"

const knownEventTypes: ReadonlySet<string> = new Set(eventTypes)
/** Bounded label values: a header is untrusted input. */
export const eventTypeLabel = (record: LogRecord) => {
  const eventType = record.headers["eventType"]
  return eventType !== undefined && knownEventTypes.has(eventType) ? eventType : "unknown"
}

export type Outcome = "done" | "skipped" | "dead_lettered"

type ConsumedLabels = { readonly group: string; readonly event_type: string; readonly outcome: Outcome }

/** The engine's per-record metrics, with label objects built once per label set rather than per record. */
export class EngineMetrics {
  private readonly consumedLabels = new Map<string, Record<Outcome, ConsumedLabels>>()
  private readonly groupLabels: { readonly group: string }

  constructor(private readonly metrics: Metrics, readonly group: string) {
    this.groupLabels = { group }
  }

  private labels(eventType: string, outcome: Outcome): ConsumedLabels {
    let byOutcome = this.consumedLabels.get(eventType)
    if (byOutcome === undefined) {
      const make = (outcome: Outcome) => ({ group: this.group, event_type: eventType, outcome })
      byOutcome = { done: make("done"), skipped: make("skipped"), dead_lettered: make("dead_lettered") }
      this.consumedLabels.set(eventType, byOutcome)
    }
    return byOutcome[outcome]
  }

  /** A record handled (or decoded and skipped, or dead-lettered): counted, and its latency observed. */
  finished(record: LogRecord, eventType: string, outcome: Outcome): void {
    this.metrics.consumed.inc(this.labels(eventType, outcome))
    this.metrics.latency.observe(this.groupLabels, Math.max(0, Date.now() - record.timestamp) / 1000)
  }

  /** A record skipped by its header, undecoded. */
  skipped(eventType: string): void {
    this.metrics.consumed.inc(this.labels(eventType, "skipped"))
  }

  deadLettered(reason: string): void {
    this.metrics.deadLettered.inc({ group: this.group, reason })
  }

  retried(): void {
    this.metrics.retried.inc(this.groupLabels)
  }
}
