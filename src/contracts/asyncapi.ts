import { Option, SchemaAST } from "effect"
import { stringify } from "yaml"
import {
  consumers,
  type ConsumerContract,
  deadLetterTopic,
  nominalDelays,
  productEventsTopic,
  productEventsTopicLayout
} from "../domain/Consumers.js"
import { deadLetterHeaderDescriptions, deadLetterHeaders } from "../domain/DeadLetter.js"
import { eventSchemas, eventTypes } from "../domain/ProductEvent.js"
import { eventExamples } from "./examples.js"
import { eventContractsJsonSchema } from "./jsonSchema.js"
import { defsOf } from "./schemaTree.js"

/** The version of the contract documents; bumped with each release in `contracts/released/`. */
export const contractVersion = "1.0.0"

const kafkaBindingVersion = "0.5.0"

const camel = (s: string): string =>
  s.split(/[^A-Za-z0-9]+/).filter((w) => w.length > 0).map((w) => w[0]!.toUpperCase() + w.slice(1)).join("")

const channelIds = {
  events: "productEvents",
  deadLetters: (c: ConsumerContract) => `deadLetters${camel(c.group)}`
}

/** JSON Schema definitions as AsyncAPI schemas (a superset of draft-07): only the `$ref`s move. */
const componentSchemas = (): Record<string, unknown> => {
  const text = JSON.stringify(defsOf(eventContractsJsonSchema())).replaceAll("\"#/$defs/", "\"#/components/schemas/")
  return JSON.parse(text) as Record<string, unknown>
}

const eventMessage = (eventType: (typeof eventTypes)[number]) => ({
  name: eventType,
  title: eventType,
  summary: Option.getOrElse(SchemaAST.getDescriptionAnnotation(eventSchemas[eventType].ast), () => eventType),
  contentType: "application/json",
  headers: {
    type: "object",
    required: ["eventType"],
    properties: {
      eventType: { type: "string", const: eventType, description: "Lets a consumer skip a record without decoding it." }
    }
  },
  payload: { $ref: `#/components/schemas/${eventType}` },
  bindings: { kafka: { key: { $ref: "#/components/schemas/SellerId" }, bindingVersion: kafkaBindingVersion } },
  examples: eventExamples(eventType).map((payload, i) => ({
    name: `${eventType}${i === 0 ? "" : i + 1}`,
    headers: { eventType },
    payload
  }))
})

const deadLetterMessage = {
  name: "DeadLetter",
  title: "Dead letter",
  summary: "A record a consumer gave up on: the original key, value bytes and headers, plus headers saying why and where from.",
  contentType: "application/octet-stream",
  headers: {
    type: "object",
    required: Object.values(deadLetterHeaders),
    properties: {
      eventType: { type: "string", description: "Copied from the original record, when it had one." },
      ...Object.fromEntries(Object.values(deadLetterHeaders).map((h) => [h, { type: "string", description: deadLetterHeaderDescriptions[h] }]))
    }
  },
  payload: { type: "string", format: "binary", description: "The original record value, byte for byte (it may not decode)." },
  bindings: { kafka: { key: { type: "string", description: "The original record key (sellerId), unchanged." }, bindingVersion: kafkaBindingVersion } }
}

const retryPolicyExtension = (c: ConsumerContract) => ({
  ...c.retry,
  nominalDelaysMillis: nominalDelays(c.retry),
  jitterMeaning: `each delay is multiplied by a uniform random factor in [${1 - c.retry.jitter}, ${1 + c.retry.jitter}], then capped at maxDelayMillis`,
  retriedFailures: "infrastructure (retriable) failures only; a record that fails to decode is dead-lettered at once",
  scope: c.group === "analytics-service"
    ? "a retry holds back the partition of the archive file being retried"
    : "a retry holds back later events of the same sellerId only (up to 8 parked sellers per lane, then the lane waits)",
  deadLetterTopic: deadLetterTopic(c.group)
})

const eventRef = (eventType: string) => ({ $ref: `#/channels/${channelIds.events}/messages/${eventType}` })

/** The AsyncAPI 3.0 document, as a plain object. */
export const asyncApiDocument = (): Record<string, unknown> => ({
  asyncapi: "3.0.0",
  info: {
    title: "product-events",
    version: contractVersion,
    description:
      "Events about sellers' products on an online marketplace. Generated from the Effect Schemas in src/domain by `npm run contracts`: do not edit by hand.",
    tags: [{ name: "product-events" }]
  },
  defaultContentType: "application/json",
  servers: {
    kafka: {
      host: "{brokers}",
      protocol: "kafka",
      description: "The Kafka cluster; brokers come from KAFKA_BROKERS.",
      variables: { brokers: { default: "127.0.0.1:9092", description: "Comma-separated bootstrap brokers." } }
    }
  },
  channels: {
    [channelIds.events]: {
      address: productEventsTopic,
      title: productEventsTopic,
      description: "Every product event. Message key = sellerId: all events of a seller are on one partition, in order.",
      messages: Object.fromEntries(eventTypes.map((t) => [t, { $ref: `#/components/messages/${t}` }])),
      bindings: { kafka: { topic: productEventsTopic, ...productEventsTopicLayout, bindingVersion: kafkaBindingVersion } }
    },
    ...Object.fromEntries(consumers.map((c) => [channelIds.deadLetters(c), {
      address: deadLetterTopic(c.group),
      title: deadLetterTopic(c.group),
      description: `Records ${c.group} could not process. Replayed onto ${productEventsTopic} with the CLI's \`dlq replay\`.`,
      messages: { DeadLetter: { $ref: "#/components/messages/DeadLetter" } },
      bindings: { kafka: { topic: deadLetterTopic(c.group), partitions: 1, replicas: productEventsTopicLayout.replicas, bindingVersion: kafkaBindingVersion } }
    }]))
  },
  operations: {
    publishProductEvents: {
      action: "send",
      channel: { $ref: `#/channels/${channelIds.events}` },
      title: "Publish product events",
      summary: "The ingest gateway (POST /events) publishes validated events, keyed by sellerId, with the eventType header.",
      messages: eventTypes.map(eventRef)
    },
    ...Object.fromEntries(consumers.flatMap((c) => [
      [`consume${camel(c.group)}`, {
        action: "receive",
        channel: { $ref: `#/channels/${channelIds.events}` },
        title: `${c.group} consumes`,
        summary: c.description,
        messages: c.subscribes.map(eventRef),
        bindings: { kafka: { groupId: { type: "string", enum: [c.group] }, bindingVersion: kafkaBindingVersion } },
        "x-retry-policy": retryPolicyExtension(c)
      }],
      [`deadLetter${camel(c.group)}`, {
        action: "send",
        channel: { $ref: `#/channels/${channelIds.deadLetters(c)}` },
        title: `${c.group} dead-letters`,
        summary: `${c.group} moves a record here when it fails to decode or exhausts its retries.`,
        messages: [{ $ref: `#/channels/${channelIds.deadLetters(c)}/messages/DeadLetter` }]
      }],
      [`replayDeadLetters${camel(c.group)}`, {
        action: "receive",
        channel: { $ref: `#/channels/${channelIds.deadLetters(c)}` },
        title: `Replay ${c.group} dead letters`,
        summary: `The CLI's \`dlq replay\` reads these records and republishes their original bytes, key and eventType header onto ${productEventsTopic}.`,
        messages: [{ $ref: `#/channels/${channelIds.deadLetters(c)}/messages/DeadLetter` }]
      }]
    ]))
  },
  components: {
    schemas: componentSchemas(),
    messages: { ...Object.fromEntries(eventTypes.map((t) => [t, eventMessage(t)])), DeadLetter: deadLetterMessage }
  }
})

export const renderAsyncApi = (): string =>
  stringify(asyncApiDocument(), { lineWidth: 0, aliasDuplicateObjects: false })
