import { marshall, unmarshall } from "@aws-sdk/util-dynamodb"
import type { AttributeValue } from "@aws-sdk/client-dynamodb"
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb"
import aws4 from "aws4"
import { Duration, Effect, Schedule } from "effect"
import http from "node:http"
import https from "node:https"
import { type DynamoClientOptions, type WriteOperation, writeOperations } from "./Dynamo.js"

/**
 * The item operations of the stores (GetItem, PutItem, UpdateItem, DeleteItem, BatchGetItem,
 * BatchWriteItem, Query) sent straight in DynamoDB's JSON protocol: the input marshalled (`util-dynamodb`, as the
 * SDK's document client does), signed with SigV4 (`aws4`), one POST on a keep-alive connection, the
 * output unmarshalled. Per request that is a fraction of the SDK client's CPU (its middleware stack,
 * schema serde and signer cost about 0.6–0.9 ms a put; this about 0.15 ms), which on a busy host is
 * the difference between the services and the store keeping up or not. The SDK client stays for
 * provisioning, and lends its credentials (the default provider chain, refreshed as
 * it expires).
 *
 * Inputs and outputs are the document client's: plain values, not attribute values. Failures are
 * `DynamoRequestError`s named by DynamoDB's error type (`ConditionalCheckFailedException`, ...), as the
 * SDK's errors are; throttling, 5xx, connection failures and an attempt whose connection is silent for 10 s are tried
 * again (3 attempts in all, as the SDK's default), after a jittered exponential back-off on the Effect
 * clock. Unlike the SDK: no clock-skew correction, no response checksum, no retry quota.
 */

export type ItemOperation = "GetItem" | "PutItem" | "UpdateItem" | "DeleteItem" | "BatchGetItem" | "BatchWriteItem" | "Query"

type Item = Record<string, unknown>
type WriteRequest = { readonly PutRequest?: { readonly Item: Item }; readonly DeleteRequest?: { readonly Key: Item } }

export interface ItemOutput {
  readonly Item?: Item
  readonly Attributes?: Item
  readonly Items?: Array<Item>
  readonly LastEvaluatedKey?: Item
  readonly Responses?: Record<string, Array<Item>>
  readonly UnprocessedKeys?: Record<string, { readonly Keys: Array<Item> }>
  readonly UnprocessedItems?: Record<string, Array<WriteRequest>>
}

export interface ItemClient {
  /** One request, tried again while retriable (3 attempts in all); a failure mapped with `onError`. Interruptible. */
  readonly call: <E>(operation: ItemOperation, input: Record<string, unknown>, onError: (cause: unknown) => E) => Effect.Effect<ItemOutput, E>
  /** A Query followed page by page until the pages end, or until `limit` items were read (pages of `limit` items). */
  readonly query: <E>(input: Record<string, unknown>, onError: (cause: unknown) => E, limit?: number) => Effect.Effect<Array<Item>, E>
}

/** One BatchWriteItem putting `items` into the table; resolves to those it left unprocessed (for `Dynamo.sendPage`). */
export const batchPut = <E>(dynamo: ItemClient, tableName: string, items: ReadonlyArray<Item>, onError: (cause: unknown) => E) =>
  dynamo.call("BatchWriteItem", { RequestItems: { [tableName]: items.map((Item) => ({ PutRequest: { Item } })) } }, onError).pipe(
    Effect.map((out) => (out.UnprocessedItems?.[tableName] ?? []).flatMap((request) => (request.PutRequest === undefined ? [] : [request.PutRequest.Item])))
  )

/** DynamoDB's answer to a failed request: `name` is its error type, e.g. `ConditionalCheckFailedException`. */
export class DynamoRequestError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly statusCode: number
  ) {
    super(message)
  }
}

const maxAttempts = 3
/** How long a request's connection may stay silent before the attempt fails (and is tried again). */
export const defaultAttemptTimeout = Duration.seconds(10)
const retriedTypes = new Set([
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
  "TransactionInProgressException"
])
/** Throttling, a 5xx, or a connection failure (reset, refused, hang up: Node's errors carry a `code`). */
export const isRetriable = (error: unknown): boolean =>
  error instanceof DynamoRequestError
    ? retriedTypes.has(error.name) || error.statusCode >= 500
    : typeof (error as { code?: unknown } | null)?.code === "string"
/** A 100 ms base, doubling, each delay jittered (80–120%). The SDK's standard mode starts throttling at 500 ms, with full jitter and a retry quota. */
const retrySchedule = Schedule.exponential(Duration.millis(100)).pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(maxAttempts - 1)))

const marshallOptions = { removeUndefinedValues: true } as const
const toValues = (item: Item): Record<string, AttributeValue> => marshall(item, marshallOptions)
const fromValues = (values: Record<string, AttributeValue>): Item => unmarshall(values)

/** BatchWriteItem's requests with their items or keys converted (to attribute values, or back). */
const mapWrites = (requests: ReadonlyArray<any>, convert: (item: any) => any): Array<WriteRequest> =>
  requests.map((r) =>
    r.PutRequest !== undefined ? { PutRequest: { Item: convert(r.PutRequest.Item) } } : { DeleteRequest: { Key: convert(r.DeleteRequest.Key) } }
  )

/** The input in DynamoDB's wire shape: items, keys and expression values as attribute values. */
const marshallInput = (operation: ItemOperation, input: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...input }
  for (const field of ["Item", "Key", "ExpressionAttributeValues", "ExclusiveStartKey"] as const) {
    if (input[field] !== undefined) out[field] = toValues(input[field] as Item)
  }
  const requestItems = input["RequestItems"] as Record<string, unknown> | undefined
  if (requestItems !== undefined) {
    out["RequestItems"] = Object.fromEntries(Object.entries(requestItems).map(([table, request]) => [
      table,
      operation === "BatchWriteItem"
        ? mapWrites(request as ReadonlyArray<WriteRequest>, toValues)
        : { ...(request as object), Keys: (request as { Keys: ReadonlyArray<Item> }).Keys.map(toValues) }
    ]))
  }
  return out
}

const unmarshallOutput = (raw: Record<string, any>): ItemOutput => {
  const out: Record<string, unknown> = {}
  if (raw["Item"] !== undefined) out["Item"] = fromValues(raw["Item"])
  if (raw["Attributes"] !== undefined) out["Attributes"] = fromValues(raw["Attributes"])
  if (raw["Items"] !== undefined) out["Items"] = (raw["Items"] as Array<any>).map(fromValues)
  if (raw["LastEvaluatedKey"] !== undefined) out["LastEvaluatedKey"] = fromValues(raw["LastEvaluatedKey"])
  if (raw["Responses"] !== undefined) {
    out["Responses"] = Object.fromEntries(Object.entries(raw["Responses"] as Record<string, Array<any>>).map(([t, items]) => [t, items.map(fromValues)]))
  }
  if (raw["UnprocessedKeys"] !== undefined) {
    out["UnprocessedKeys"] = Object.fromEntries(
      Object.entries(raw["UnprocessedKeys"] as Record<string, { Keys: Array<any> }>).map(([t, r]) => [t, { ...r, Keys: r.Keys.map(fromValues) }])
    )
  }
  if (raw["UnprocessedItems"] !== undefined) {
    out["UnprocessedItems"] = Object.fromEntries(
      Object.entries(raw["UnprocessedItems"] as Record<string, Array<any>>).map(([t, requests]) => [t, mapWrites(requests, fromValues)])
    )
  }
  return out
}

const writes: ReadonlySet<string> = new Set(writeOperations)

/**
 * The item client of a store, for the layer's lifetime (its connections closed on release). `sdk`
 * lends its credentials provider: the same identity as the store's other calls.
 */
export const makeItemClient = (
  options: DynamoClientOptions,
  sdk: DynamoDBDocumentClient,
  attemptTimeout: Duration.Duration = defaultAttemptTimeout
) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const url = new URL(options.endpoint ?? `https://dynamodb.${options.region}.amazonaws.com`)
      const secure = url.protocol === "https:"
      const transport = secure ? https : http
      const agent = new transport.Agent({ keepAlive: true, maxSockets: 50 })
      const timeoutMillis = Duration.toMillis(attemptTimeout)
      const credentials = sdk.config.credentials as () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>

      const attempt = async (operation: ItemOperation, body: string, signal: AbortSignal | undefined): Promise<ItemOutput> => {
        const identity = await credentials()
        const signed = aws4.sign({
          host: url.host,
          path: "/",
          method: "POST",
          service: "dynamodb",
          region: options.region,
          headers: { "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": `DynamoDB_20120810.${operation}` },
          body
        }, { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey, ...(identity.sessionToken === undefined ? {} : { sessionToken: identity.sessionToken }) })
        const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
          const request = transport.request({
            protocol: url.protocol,
            hostname: url.hostname,
            port: url.port,
            path: "/",
            method: "POST",
            headers: signed.headers as http.OutgoingHttpHeaders,
            agent,
            // The socket's own idle timer (not a timer per request on the Effect runtime, which costs a fiber each).
            timeout: timeoutMillis,
            ...(signal === undefined ? {} : { signal })
          }, (response) => {
            const chunks: Array<Buffer> = []
            response.on("data", (chunk: Buffer) => chunks.push(chunk))
            response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }))
            response.on("error", reject)
          })
          request.on("error", reject)
          request.on("timeout", () =>
            request.destroy(Object.assign(new Error(`no answer within ${Duration.format(attemptTimeout)}`), { code: "ETIMEDOUT" })))
          request.end(body)
        })
        if (status === 200) return unmarshallOutput(text === "" ? {} : (JSON.parse(text) as Record<string, any>))
        // An error from DynamoDB is JSON; one from a proxy or balancer in front of it may not be (a 502 page).
        let parsed: Record<string, any> = {}
        try {
          parsed = JSON.parse(text) as Record<string, any>
        } catch {
          // named by its status below
        }
        const type = String(parsed["__type"] ?? `HTTP ${status}`)
        const message = String(parsed["message"] ?? parsed["Message"] ?? type)
        throw new DynamoRequestError(type.slice(type.lastIndexOf("#") + 1), message, status)
      }

      const call = <E>(operation: ItemOperation, input: Record<string, unknown>, onError: (cause: unknown) => E) =>
        Effect.try({ try: () => JSON.stringify(marshallInput(operation, input)), catch: onError }).pipe(
          Effect.flatMap((body) => {
            if (options.onWriteRequest !== undefined && writes.has(operation)) {
              const tables = typeof input["TableName"] === "string" ? [input["TableName"]] : Object.keys(input["RequestItems"] ?? {})
              for (const table of tables) options.onWriteRequest(table, operation as WriteOperation)
            }
            return Effect.tryPromise({ try: (signal) => attempt(operation, body, signal), catch: (cause) => cause }).pipe(
              Effect.retry({ schedule: retrySchedule, while: isRetriable }),
              Effect.mapError(onError)
            )
          })
        )

      const query = <E>(input: Record<string, unknown>, onError: (cause: unknown) => E, limit?: number) =>
        Effect.gen(function*() {
          const items: Array<Item> = []
          let start: Item | undefined
          do {
            const page = yield* call("Query", {
              ...input,
              ...(limit === undefined ? {} : { Limit: limit }),
              ...(start === undefined ? {} : { ExclusiveStartKey: start })
            }, onError)
            items.push(...(page.Items ?? []))
            if (limit !== undefined && items.length >= limit) return items.slice(0, limit)
            start = page.LastEvaluatedKey
          } while (start !== undefined)
          return items
        })

      return { client: { call, query } satisfies ItemClient, agent }
    }),
    ({ agent }) => Effect.sync(() => agent.destroy())
  ).pipe(Effect.map(({ client }) => client))
