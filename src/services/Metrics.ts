import { Effect } from "effect"
import * as Prometheus from "prom-client"

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
    return {
      registry,
      consumed: new Prometheus.Counter({
        name: "events_consumed_total",
        help: "Events finished by a consumer, by outcome (done, skipped, dead_lettered).",
        labelNames: ["group", "event_type", "outcome"] as const,
        registers
      }),
      retried: new Prometheus.Counter({
        name: "events_retried_total",
        help: "Retries of a retriable failure.",
        labelNames: ["group"] as const,
        registers
      }),
      deadLettered: new Prometheus.Counter({
        name: "events_dead_lettered_total",
        help: "Records sent to the dead-letter topic, by reason.",
        labelNames: ["group", "reason"] as const,
        registers
      }),
      restarts: new Prometheus.Counter({
        name: "consumer_restarts_total",
        help: "Consumer restarts after a failure: by the consumer engine (a new subscription) or, with by=\"client\", by the Kafka client (after a crash).",
        labelNames: ["group", "by"] as const,
        registers
      }),
      lag: new Prometheus.Gauge({
        name: "consumer_lag_records",
        help: "Records between the committed offset and the end of the partition.",
        labelNames: ["group", "partition"] as const,
        registers
      }),
      latency: new Prometheus.Histogram({
        name: "event_processing_seconds",
        help: "From a record's append time to its completion by a consumer.",
        labelNames: ["group"] as const,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
        registers
      }),
      published: new Prometheus.Counter({
        name: "events_published_total",
        help: "Events accepted by the ingest gateway and published to Kafka.",
        labelNames: ["event_type"] as const,
        registers
      }),
      rejected: new Prometheus.Counter({
        name: "events_rejected_total",
        help: "Events rejected by the ingest gateway as invalid.",
        registers
      }),
      dynamoWrites: new Prometheus.Counter({
        name: "dynamodb_write_requests_total",
        help:
          "DynamoDB write requests sent (PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems), by store " +
          "(metrics: analytics-service's hot store; notifications: notification-service's), table and operation.",
        labelNames: ["store", "table", "operation"] as const,
        registers
      }),
      render: Effect.promise(() => registry.metrics()),
      contentType: registry.contentType
    }
  }
}) {}
