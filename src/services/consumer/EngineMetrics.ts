import { eventTypes } from "../../domain/ProductEvent.js"
import type { LogRecord } from "../EventLog.js"
import type { HistogramSeries } from "../Histogram.js"
import type { Metrics } from "../Metrics.js"

const knownEventTypes: ReadonlySet<string> = new Set(eventTypes)
/** Bounded label values: a header is untrusted input. */
const labelOf = (eventType: string | undefined) =>
  eventType !== undefined && knownEventTypes.has(eventType) ? eventType : "unknown"

export type Outcome = "done" | "skipped" | "dead_lettered"

type ConsumedLabels = { readonly group: string; readonly event_type: string; readonly outcome: Outcome }

/** Records of one label set counted since the last flush. */
interface Tally {
  readonly labels: ConsumedLabels
  count: number
}

/**
 * The engine's record metrics, counted in plain code per record and handed to prom-client per chunk
 * (`flush`): one counter update per label set. A record costs a comparison with the previous
 * record's `eventType` header (records come in runs of one type) and an increment.
 */
export class EngineMetrics {
  /** By event-type label, then outcome: bounded by the known event types. */
  private readonly tallies = new Map<string, Record<Outcome, Tally>>()
  /** The tallies counted since the last flush. */
  private readonly counted: Array<Tally> = []
  /** The previous record's header and its tallies. */
  private lastHeader: string | undefined = undefined
  private lastTallies: Record<Outcome, Tally> | undefined = undefined
  private readonly latency: HistogramSeries
  /** Append times of the records finished since the last flush. */
  private readonly appendTimes: Array<number> = []
  private readonly groupLabels: { readonly group: string }

  constructor(private readonly metrics: Metrics, readonly group: string) {
    this.latency = metrics.latency.labels({ group })
    this.groupLabels = { group }
  }

  private talliesOf(header: string | undefined): Record<Outcome, Tally> {
    if (header === this.lastHeader && this.lastTallies !== undefined) return this.lastTallies
    const label = labelOf(header)
    let byOutcome = this.tallies.get(label)
    if (byOutcome === undefined) {
      const make = (outcome: Outcome): Tally => ({ labels: { group: this.group, event_type: label, outcome }, count: 0 })
      byOutcome = { done: make("done"), skipped: make("skipped"), dead_lettered: make("dead_lettered") }
      this.tallies.set(label, byOutcome)
    }
    this.lastHeader = header
    this.lastTallies = byOutcome
    return byOutcome
  }

  private count(tally: Tally): void {
    if (tally.count++ === 0) this.counted.push(tally)
  }

  /** A record handled (or decoded and skipped, or dead-lettered): counted, and its latency observed at the flush. */
  finished(record: LogRecord, outcome: Outcome): void {
    this.count(this.talliesOf(record.headers["eventType"])[outcome])
    this.appendTimes.push(record.timestamp)
  }

  /** A record skipped by its `eventType` header, undecoded. */
  skipped(header: string | undefined): void {
    this.count(this.talliesOf(header).skipped)
  }

  /** Hands what was counted since the last flush to the registry: once per chunk, and periodically. */
  flush(): void {
    const { appendTimes, counted } = this
    if (counted.length > 0) {
      for (const tally of counted) {
        this.metrics.consumed.inc(tally.labels, tally.count)
        tally.count = 0
      }
      counted.length = 0
    }
    if (appendTimes.length > 0) {
      const now = Date.now()
      for (const at of appendTimes) this.latency.observe(Math.max(0, now - at) / 1000)
      appendTimes.length = 0
    }
  }

  deadLettered(reason: string): void {
    this.metrics.deadLettered.inc({ group: this.group, reason })
  }

  retried(): void {
    this.metrics.retried.inc(this.groupLabels)
  }
}
