import { Effect } from "effect"
import * as Prometheus from "prom-client"
import { Histogram } from "./Histogram.js"

/**
 * The process's Prometheus metrics, served as text by `GET /metrics`.
 * One registry per process (per layer build), so that tests and the embedded program do not share counters;
 * it also holds prom-client's default process metrics (`process_*`, `nodejs_*`).
 */
export class Metrics extends Effect.Service<Metrics>()("product-events/Metrics", {
  sync: () => {
    const registry = new Prometheus.Registry()
    const registers = [registry]
    // The process's own: CPU, resident memory, heap by space, event-loop lag, GC pauses, handles.
    Prometheus.collectDefaultMetrics({ register: registry })
    const counter = <const L extends string>(name: string, help: string, labelNames: ReadonlyArray<L>) =>
      new Prometheus.Counter<L>({ name, help, labelNames, registers })
    return {
      registry,
      consumed: counter("events_consumed_total", "Events finished by a consumer, by outcome (done, skipped, dead_lettered).", [
        "group",
        "event_type",
        "outcome"
      ]),
      retried: counter("events_retried_total", "Retries of a retriable failure.", ["group"]),
      deadLettered: counter("events_dead_lettered_total", "Records sent to the dead-letter topic, by reason.", ["group", "reason"]),
      restarts: counter(
        "consumer_restarts_total",
        "Consumer restarts after a failure: by the consumer engine (a new subscription) or, with by=\"client\", by the Kafka client (after a crash).",
        ["group", "by"]
      ),
      lag: new Prometheus.Gauge({
        name: "consumer_lag_records",
        help: "Records between the committed offset and the end of the partition.",
        labelNames: ["group", "partition"] as const,
        registers
      }),
      // Observed once per record by the consumer engine: a histogram whose observation is a bucket increment.
      latency: new Histogram({
        name: "event_processing_seconds",
        help: "From a record's append time to its completion by a consumer.",
        labelNames: ["group"] as const,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
        registers
      }),
      httpDuration: new Prometheus.Histogram({
        name: "http_request_duration_seconds",
        help: "HTTP requests from arrival to response headers, by method, declared route (`unmatched` for any path no route has) " +
          "and status; the SSE stream is left out (its duration is the client's connection).",
        labelNames: ["method", "route", "status"] as const,
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers
      }),
      published: counter("events_published_total", "Events accepted by the ingest gateway and published to Kafka.", ["event_type"]),
      rejected: counter("events_rejected_total", "Events rejected by the ingest gateway as invalid.", []),
      gatewayRateLimited: counter(
        "gateway_rate_limited_total",
        "Requests to POST /events refused with 429: their token published more than GATEWAY_RATE_LIMIT events/s (nothing published).",
        []
      ),
      sseStreamsRefused: counter(
        "sse_streams_refused_total",
        "SSE streams refused with 429: their seller had SSE_MAX_STREAMS_PER_SELLER streams open in this process.",
        []
      ),
      dynamoWrites: counter(
        "dynamodb_write_requests_total",
        "DynamoDB write requests sent (PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems), by store " +
          "(metrics: analytics-service's hot store; notifications: notification-service's), table and operation.",
        ["store", "table", "operation"]
      ),
      render: Effect.promise(() => registry.metrics()),
      contentType: registry.contentType
    }
  }
}) {}
