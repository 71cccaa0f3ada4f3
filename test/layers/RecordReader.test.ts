import { describe, expect, it } from "vitest"
import type { IHeaders, KafkaMessage } from "kafkajs"
import { RecordReader } from "../../src/layers/kafka/Subscription.js"

/**
 * The Kafka layer's records from kafkajs messages. A short header value whose bytes repeat those of the
 * previous record's is given the previous text instead of being decoded again: the records' headers
 * must still be exactly what their own bytes say.
 */

const message = (offset: number, headers: IHeaders | undefined, key: string | null = "seller_1"): KafkaMessage => ({
  key: key === null ? null : Buffer.from(key),
  value: Buffer.from(`{"n":${offset}}`),
  timestamp: String(1_000 + offset),
  attributes: 0,
  offset: String(offset),
  headers: headers ?? {}
})

const traceparent = (span: number) => `00-${"a".repeat(32)}-${span.toString(16).padStart(16, "0")}-01`

/** A header value that counts how often it is decoded to text. */
const counted = (text: string) => {
  const bytes = Buffer.from(text)
  const decoded = { count: 0 }
  Object.defineProperty(bytes, "toString", {
    value(this: Buffer, ...args: Parameters<Buffer["toString"]>) {
      decoded.count++
      return Buffer.prototype.toString.apply(this, args)
    }
  })
  return { bytes, decoded }
}

describe("RecordReader (kafkajs messages as log records)", () => {
  it("gives each record the headers its own bytes say, when values change between consecutive records", () => {
    const reader = new RecordReader()
    // ProductCreated and ProductDeleted have the same length: only their bytes tell them apart.
    const types = ["ProductCreated", "ProductCreated", "ProductDeleted", "ProductCreated", "LowStockWarning", "ProductUpdated"]
    const records = types.map((eventType, i) =>
      reader.record("product-events", 3, message(i, {
        eventType: Buffer.from(eventType),
        // Longer than the values whose text is reused: decoded every time.
        traceparent: Buffer.from(traceparent(i % 2)),
        // As kafkajs gives a header sent more than once: the first value counts.
        origin: [Buffer.from(i < 3 ? "gateway" : "replay"), Buffer.from("ignored")],
        text: "already a string",
        absent: undefined
      })))
    expect(records.map((r) => r.headers)).toEqual(types.map((eventType, i) => ({
      eventType,
      traceparent: traceparent(i % 2),
      origin: i < 3 ? "gateway" : "replay",
      text: "already a string"
    })))
    expect(records.map((r) => [r.topic, r.partition, r.offset, r.timestamp, r.key])).toEqual(
      types.map((_, i) => ["product-events", 3, i, 1_000 + i, "seller_1"])
    )
    expect(Buffer.from(records[2]!.value).toString()).toBe("{\"n\":2}")
  })

  it("reads each record's bytes even when kafkajs hands the next record the same buffer, rewritten", () => {
    const reader = new RecordReader()
    const shared = Buffer.from("ProductCreated")
    const first = reader.record("t", 0, message(0, { eventType: shared }))
    shared.write("ProductDeleted")
    const second = reader.record("t", 0, message(1, { eventType: shared }))
    shared.write("ProductCreated")
    const third = reader.record("t", 0, message(2, { eventType: shared }))
    expect([first, second, third].map((r) => r.headers["eventType"])).toEqual(["ProductCreated", "ProductDeleted", "ProductCreated"])
  })

  it("decodes a short value once while its bytes repeat, again when they change; a long value every time", () => {
    const reader = new RecordReader()
    const values = ["ProductCreated", "ProductCreated", "ProductCreated", "ProductUpdated", "ProductUpdated", "ProductCreated"]
    const short = values.map(counted)
    const long = values.map(() => counted(traceparent(7)))
    const records = values.map((_, i) => reader.record("t", 0, message(i, { eventType: short[i]!.bytes, traceparent: long[i]!.bytes })))
    expect(records.map((r) => r.headers["eventType"])).toEqual(values)
    expect(short.map((v) => v.decoded.count)).toEqual([1, 0, 0, 1, 0, 1])
    expect(long.map((v) => v.decoded.count)).toEqual([1, 1, 1, 1, 1, 1])
  })

  it("headers past the first eight names are decoded every time, and right", () => {
    const reader = new RecordReader()
    const names = Array.from({ length: 10 }, (_, i) => `h${i}`)
    const headersOf = (n: number) => Object.fromEntries(names.map((name, i) => [name, `${name}=${i < 9 ? "same" : n}`]))
    const values = [0, 1, 2].map((n) => Object.fromEntries(Object.entries(headersOf(n)).map(([name, text]) => [name, counted(text)])))
    const records = values.map((headers, n) =>
      reader.record("t", 0, message(n, Object.fromEntries(Object.entries(headers).map(([name, v]) => [name, v.bytes])))))
    expect(records.map((r) => r.headers)).toEqual([0, 1, 2].map(headersOf))
    // The first eight names' repeated values are reused; the ninth and tenth are decoded for each record.
    expect(values.map((headers) => names.map((name) => headers[name]!.decoded.count))).toEqual([
      [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
      [0, 0, 0, 0, 0, 0, 0, 0, 1, 1],
      [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]
    ])
  })

  it("a record without key, value or headers", () => {
    const reader = new RecordReader()
    const record = reader.record("t", 1, { key: null, value: null, timestamp: "5", attributes: 0, offset: "9", size: 0 })
    expect(record).toEqual({ topic: "t", partition: 1, offset: 9, key: null, value: new Uint8Array(), headers: {}, timestamp: 5 })
  })
})
