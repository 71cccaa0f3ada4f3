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

/**
 * The engine's record metrics, counted in plain code per record and handed to prom-client per chunk
 * (`flush`): one counter update per label set, label objects built once per label set.
 */
export class EngineMetrics {
  private readonly consumedLabels = new Map<string, Record<Outcome, ConsumedLabels>>()
  private readonly groupLabels: { readonly group: string }
  private readonly counts = new Map<ConsumedLabels, number>()
  /** Append times of the records finished since the last flush. */
  private appendTimes: Array<number> = []

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

  private count(labels: ConsumedLabels): void {
    this.counts.set(labels, (this.counts.get(labels) ?? 0) + 1)
  }

  /** A record handled (or decoded and skipped, or dead-lettered): counted, and its latency observed at the flush. */
  finished(record: LogRecord, eventType: string, outcome: Outcome): void {
    this.count(this.labels(eventType, outcome))
    this.appendTimes.push(record.timestamp)
  }

  /** A record skipped by its header, undecoded. */
  skipped(eventType: string): void {
    this.count(this.labels(eventType, "skipped"))
  }

  /** Hands what was counted since the last flush to the registry: once per chunk, and periodically. */
  flush(): void {
    if (this.counts.size > 0) {
      for (const [labels, n] of this.counts) this.metrics.consumed.inc(labels, n)
      this.counts.clear()
    }
    if (this.appendTimes.length > 0) {
      const now = Date.now()
      const times = this.appendTimes
      this.appendTimes = []
      for (const at of times) this.metrics.latency.observe(this.groupLabels, Math.max(0, now - at) / 1000)
    }
  }

  deadLettered(reason: string): void {
    this.metrics.deadLettered.inc({ group: this.group, reason })
  }

  retried(): void {
    this.metrics.retried.inc(this.groupLabels)
  }
}
