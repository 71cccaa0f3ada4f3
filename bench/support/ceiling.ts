import { DynamoDBClient } from "@aws-sdk/client-dynamodb"
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb"

/**
 * dynalite's own ceiling, measured with the services' client: conditional puts
 * (`attribute_not_exists(id)`, as NotificationStore writes) into `table` (the run's notifications table), 32 at a
 * time, for `ms`. A notification costs one such put plus its share of batched reads and counter updates.
 */
export const measureCeiling = async (run: string, table: string, ms = 8_000) => {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({
    region: process.env["AWS_REGION"] ?? "us-east-1",
    endpoint: process.env["DYNAMODB_ENDPOINT"] ?? "http://127.0.0.1:8000",
    maxAttempts: 3
  }))
  let n = 0
  let puts = 0
  const started = Date.now()
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (Date.now() - started < ms) {
      const i = n++
      await client.send(new PutCommand({
        TableName: table,
        Item: { sellerId: `ceiling_${run}_${i % 1000}`, id: `c${i}`, seq: i },
        ConditionExpression: "attribute_not_exists(id)"
      }))
      puts++
    }
  }))
  client.destroy()
  const elapsed = Date.now() - started
  const perSecond = Math.round((puts * 1000) / elapsed)
  return { perSecond, line: `dynalite ceiling: ${perSecond} conditional puts/s (32 concurrent, ${puts} in ${elapsed} ms)` }
}
