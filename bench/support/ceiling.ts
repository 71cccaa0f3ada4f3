import { Effect } from "effect"
import { makeDocumentClient } from "../../src/layers/Dynamo.js"
import { makeItemClient } from "../../src/layers/DynamoItems.js"

/**
 * dynalite's own ceiling, measured with the services' client (`DynamoItems`): conditional puts
 * (`attribute_not_exists(id)`, as NotificationStore writes) into `table` (the run's notifications
 * table), 32 at a time, for `ms`. A notification costs one such put plus its share of batched reads
 * and counter updates.
 */
export const measureCeiling = (run: string, table: string, ms = 8_000) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const options = {
      region: process.env["AWS_REGION"] ?? "us-east-1",
      endpoint: process.env["DYNAMODB_ENDPOINT"] ?? "http://127.0.0.1:8000"
    }
    const dynamo = yield* makeItemClient(options, yield* makeDocumentClient(options))
    let n = 0
    let puts = 0
    const started = Date.now()
    yield* Effect.all(Array.from({ length: 32 }, () =>
      Effect.whileLoop({
        while: () => Date.now() - started < ms,
        body: () => {
          const i = n++
          return dynamo.call("PutItem", {
            TableName: table,
            Item: { sellerId: `ceiling_${run}_${i % 1000}`, id: `c${i}`, seq: i },
            ConditionExpression: "attribute_not_exists(id)"
          }, (cause) => cause)
        },
        step: () => void puts++
      })), { concurrency: "unbounded", discard: true })
    const elapsed = Date.now() - started
    const perSecond = Math.round((puts * 1000) / elapsed)
    return { perSecond, line: `dynalite ceiling: ${perSecond} conditional puts/s (32 concurrent, ${puts} in ${elapsed} ms)` }
  })))
