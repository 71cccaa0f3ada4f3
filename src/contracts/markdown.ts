import { consumers, deadLetterTopic, nominalDelays, productEventsTopic, productEventsTopicLayout, subscribes } from "../domain/Consumers.js"
import { deadLetterHeaderDescriptions, deadLetterHeaders } from "../domain/DeadLetter.js"
import { eventTypes } from "../domain/ProductEvent.js"
import { contractVersion } from "./asyncapi.js"
import { httpSection } from "./markdownHttp.js"
import { evolutionSection, unexpressibleChecksSection } from "./markdownRules.js"
import { eventExamples } from "./examples.js"
import { fieldRows, fieldsTable } from "./fieldsTable.js"
import { eventContractsJsonSchema } from "./jsonSchema.js"
import { defsOf, isSchema, type JsonSchema } from "./schemaTree.js"

export const formatMillis = (ms: number): string =>
  ms < 1_000 ? `${ms} ms` : ms < 60_000 || ms % 60_000 !== 0 ? `${ms / 1_000} s` : `${ms / 60_000} min`

const formatTotal = (ms: number): string =>
  ms < 60_000 ? formatMillis(ms) : `${Math.floor(ms / 60_000)} min${ms % 60_000 === 0 ? "" : ` ${(ms % 60_000) / 1_000} s`}`

const json = (u: unknown) => ["```json", JSON.stringify(u, null, 2), "```"].join("\n")

const describe = (root: JsonSchema, name: string): string => {
  const def = defsOf(root)[name]
  return isSchema(def) && typeof def.description === "string" ? def.description : ""
}

const overview = (root: JsonSchema) => [
  `# product-events: event contracts (v${contractVersion})`,
  "",
  "> Generated from the Effect Schemas and consumer data in `src/domain/` by `npm run contracts`. Do not edit:",
  "> `npm run contracts:check` (run in CI) fails when this file, `event-contracts.json`, `asyncapi.yaml`,",
  "> `openapi.json` or `examples/` differ from what `src/domain/` generates, or when the schemas break the last release.",
  "",
  "## Overview",
  "",
  `All events travel on the Kafka topic \`${productEventsTopic}\` (${productEventsTopicLayout.partitions} partitions in production),`,
  "keyed by `sellerId`, with a header `eventType` naming the event. Machine-readable contracts:",
  "`event-contracts.json` (JSON Schema draft-07), `asyncapi.yaml` (AsyncAPI 3.0), `examples/*.json`; the HTTP",
  "side (see [HTTP API](#http-api)) in `openapi.json` (OpenAPI 3.1).",
  "",
  `| event | emitted when | ${consumers.map((c) => c.group).join(" | ")} |`,
  `|---|---|${consumers.map(() => "---").join("|")}|`,
  ...eventTypes.map((t) =>
    `| ${t} | ${describe(root, t)} | ${consumers.map((c) => (subscribes(c, t) ? "consumes" : "-")).join(" | ")} |`)
]

const envelope = () => [
  "## Envelope",
  "",
  "Every event is a JSON object `{ eventId, eventType, timestamp, data }`.",
  "",
  "- `eventType`: one of " + eventTypes.map((t) => `\`${t}\``).join(", ") + "; also sent as the Kafka header `eventType`.",
  "- `timestamp`: ISO-8601 UTC with exactly three fractional digits, as `Date.prototype.toISOString` writes it,",
  "  e.g. `2026-11-26T20:24:14.123Z`; a real instant whose Unix time in milliseconds has 13 digits",
  "  (2001-09-09T01:46:40.000Z to 2286-11-20T17:46:39.999Z).",
  "- `eventId` = `{sellerId}-{productId}-{eventType}-{epochMillis}`, epochMillis being `timestamp` in Unix",
  "  milliseconds (13 digits), sellerId and productId those in `data`. The decoder rejects an event whose",
  "  eventId disagrees with its own fields. It is the idempotency key everywhere: a producer never gives two",
  "  events the same eventId (same product, type and millisecond); it bumps the timestamp by 1 ms instead.",
  "- `data.sellerId`, `data.productId`: 1-64 characters of `[A-Za-z0-9_]`. No `-`: it separates eventId parts.",
  "- `data` carries everything a consumer needs, without look-ups.",
  "- Money is never a binary float: `{ amountMinor, currency }`, an integer amount in the currency's minor unit",
  "  (cents) from 0 to 2^53-1, and an ISO-4217 alphabetic code.",
  "- Readers are tolerant: unknown properties are ignored (the JSON Schema allows them), which is what lets the",
  "  contract gain optional fields without breaking consumers."
]

const events = (root: JsonSchema) =>
  eventTypes.flatMap((t) => {
    const examples = eventExamples(t)
    return [
      `### ${t}`,
      "",
      describe(root, t),
      "",
      `Consumed by: ${consumers.filter((c) => subscribes(c, t)).map((c) => c.group).join(", ")}.`,
      "",
      fieldsTable(fieldRows(root, { $ref: `#/$defs/${t}` })),
      "",
      examples.length === 1 ? "Example (`examples/" + t + ".json`):" : `Examples (\`examples/${t}.json\` and \`examples/${t}.<n>.json\`):`,
      "",
      ...examples.flatMap((e) => [json(e), ""])
    ]
  })

const retries = () => [
  "## Retry policies",
  "",
  "Each consumer retries a record whose processing failed for a retriable (infrastructure) reason: delay n",
  "(n = 0, 1, ...) is `initialDelay * factor^n`, multiplied by a uniform random jitter factor in",
  "`[1 - jitter, 1 + jitter]`, then capped at `maxDelay`. After `maxRetries` retries the record is dead-lettered.",
  "A record that fails to decode is never retried: it is dead-lettered at once. A retry holds back later events",
  "of the same seller only: the seller is parked with its retrying record while its lane goes on with other",
  "sellers (at most 8 parked sellers per lane; past that bound the lane waits, so resources stay bounded).",
  "analytics-service retries a whole micro-batch of a partition (claims, aggregation, metric writes) and holds",
  "back that partition meanwhile. A batch is dead-lettered only when none of its metric writes can be in the",
  "store (no metric item holds the partition's watermark at or past the batch's first offset); a batch partly",
  "written is retried every `maxDelay` until it completes, never dead-lettered (a replay would count its written",
  "part twice). An archive upload is retried the same way, then every `maxDelay` until it succeeds: its events",
  "are counted already, so a replay would not archive them.",
  "The services read these policies from `src/domain/Consumers.ts`.",
  "",
  "| consumer | retries | initial delay | factor | cap | jitter | nominal delays (before jitter) | nominal total |",
  "|---|---|---|---|---|---|---|---|",
  ...consumers.map((c) => {
    const delays = nominalDelays(c.retry)
    return `| ${c.group} | ${c.retry.maxRetries} | ${formatMillis(c.retry.initialDelayMillis)} | ${c.retry.factor} | ` +
      `${formatMillis(c.retry.maxDelayMillis)} | ±${Math.round(c.retry.jitter * 100)}% | ${delays.map(formatMillis).join(", ")} | ` +
      `${formatTotal(delays.reduce((a, b) => a + b, 0))} |`
  })
]

const consumerMatrix = () => [
  "## Consumer matrix",
  "",
  `| event | ${consumers.map((c) => c.group).join(" | ")} |`,
  `|---|${consumers.map(() => "---").join("|")}|`,
  ...eventTypes.map((t) => `| ${t} | ${consumers.map((c) => (subscribes(c, t) ? "yes" : "no")).join(" | ")} |`),
  "",
  ...consumers.map((c) => `- **${c.group}** (consumer group \`${c.group}\`): ${c.description}`)
]

const ordering = () => [
  "## Ordering guarantees",
  "",
  "- The message key is `sellerId`: every event of a seller lands on one partition, in production order.",
  "- Each consumer applies the events of one seller in the order they were produced, retries included.",
  "- Different sellers are processed concurrently (key-ordered parallelism, not partition-serial): a bounded",
  "  number of lanes chosen by a hash of `sellerId`, so resources stay bounded however many sellers exist.",
  "- analytics-service appends events in offset order (one lane) to a micro-batch and an archive file per",
  "  partition, and does its heavy work (aggregation and encoding in worker threads, metric writes, uploads) per",
  "  batch and per file, in order within a partition, concurrently across partitions.",
  "- There is no ordering across sellers, and none across partitions."
]

const delivery = () => [
  "## Delivery semantics",
  "",
  "- At-least-once delivery: a record may be delivered again after a crash or a rebalance.",
  "- Effectively-once results: every write is idempotent, keyed by `eventId`, so a redelivery changes nothing.",
  "  notification-service: the notification's key is the eventId (a conditional put); a redelivered event is",
  "  published again and subscribers drop it by `seq`. analytics-service: each event is claimed once by the record",
  "  that carries it (an item keyed by eventId, a micro-batch's claims read and written in batches, a partition's",
  "  batches in offset order; the claim holds for `CLAIM_RETENTION`, 30 days by default, so the same event",
  "  republished later than that counts again), metric items advance under a per-partition offset",
  "  watermark (a conditional update), and archive objects are keyed by partition and offsets and never rewritten",
  "  with other content; an offset is committed only once its event is in the metrics and in an uploaded object.",
  "- An eventId names one event. The same eventId published again with other content (a producer's bug, not a",
  "  redelivery: its bytes differ) is a conflict. The gateway accepts it (it keeps no history of eventIds);",
  "  notification-service detects it in its store (a hash of the record's value is stored with each notification),",
  "  keeps the first version, logs a warning and dead-letters the other with reason `conflict`, counted by",
  "  `events_dead_lettered_total{reason=\"conflict\"}` in `/metrics`. analytics-service counts the first version and",
  "  skips the other as a repeat of its eventId.",
  "- analytics-service's metrics show an event within `HOT_FRESH_AFTER` (250 ms) of reading it plus a store",
  "  write, however long its micro-batch (per partition: `HOT_MAX_WAIT`, 1 s, or `HOT_MAX_EVENTS`, 1000 events,",
  "  longer while the previous one is applied) takes to be applied: until then the event is in its seller's",
  "  pending record, which `GET /sellers/{sellerId}/metrics` adds. They never show an event twice; an event",
  "  published twice (another record) shows twice only until the batch of its second record is applied.",
  "  Independent of the archive's roll-over (seconds to minutes).",
  "- Commit watermark: an offset is committed only when every earlier record of its partition is finished",
  "  (done, skipped because the consumer does not subscribe to its type, or dead-lettered).",
  "- Consumers skip unsubscribed types by the `eventType` header, without decoding the value.",
  "- On SIGTERM a consumer drains in-flight work, commits and exits 0."
]

const moneyTotals = () => [
  "## Money totals",
  "",
  "Prices are at most 2^53-1 minor units and stocks at most 10^9, so a single product's value (price × stock)",
  "can reach about 9 × 10^24, and a seller's total more: past 2^53 a JSON number is not exact for most readers,",
  "JavaScript's among them. The event contract is not narrowed to avoid that (it would break the released",
  "contract's readers and producers); instead every money total is carried as a decimal string of the exact",
  "integer: `inventoryValue` in `GET /sellers/{sellerId}/metrics` maps each currency to such a string, e.g.",
  "`{ \"EUR\": \"9007199245733791745259009\" }`. Inside, analytics-service adds each product's value in base-10^7",
  "limbs (`value#EUR`, `value#EUR#1`, ...), each below 10^7, so the stored sums stay exact however large the",
  "prices and stocks (up to 900 million products per seller and currency). Counts and `totalStockUnits` stay",
  "JSON integers: they pass 2^53 only past 9 million products of 10^9 units each."
]

const deadLetters = () => [
  "## Dead letters",
  "",
  "A record that fails to decode, or whose retries are exhausted, is written to its consumer's dead-letter topic",
  "with its original key, value bytes and headers, plus these headers:",
  "",
  ...consumers.map((c) => `- ${c.group}: \`${deadLetterTopic(c.group)}\``),
  "",
  "| header | meaning |",
  "|---|---|",
  ...Object.values(deadLetterHeaders).map((h) => `| \`${h}\` | ${deadLetterHeaderDescriptions[h]} |`),
  "",
  "The CLI's `dlq replay` command (`src/programs/cli.ts`) republishes dead letters onto",
  `\`${productEventsTopic}\` with their original key, bytes and \`eventType\` header; idempotency by eventId makes a`,
  "replay of an already applied event harmless."
]

/** `contracts/event-contracts.md`. */
export const renderMarkdown = (): string => {
  const root = eventContractsJsonSchema()
  return [
    ...overview(root), "",
    ...envelope(), "",
    "## Events", "",
    ...events(root),
    ...consumerMatrix(), "",
    ...retries(), "",
    ...ordering(), "",
    ...delivery(), "",
    ...moneyTotals(), "",
    ...deadLetters(), "",
    ...httpSection(), "",
    ...evolutionSection(), "",
    ...unexpressibleChecksSection()
  ].join("\n") + "\n"
}
