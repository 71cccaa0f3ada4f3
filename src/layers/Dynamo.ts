import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  type KeySchemaElement,
  type LocalSecondaryIndex,
  UpdateTimeToLiveCommand,
  waitUntilTableExists
} from "@aws-sdk/client-dynamodb"
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb"
import { Array as Arr, Config, Duration, Effect, Option } from "effect"
import { causeMessage, errorName } from "../services/InfraError.js"

/**
 * What the DynamoDB layers share: the SDK's document client acquired for the layer's lifetime, for table
 * provisioning (create when missing, wait until ACTIVE) at layer build and readiness probes; the item
 * operations go through `DynamoItems.ts`, a lighter client of the same protocol.
 * Designed for dynalite too: no transactions, TTL or streams (items that should expire carry their
 * expiry and the conditions honour it, so deletion by TTL only saves space).
 */

export interface DynamoClientOptions {
  /** e.g. http://127.0.0.1:8000 for dynalite; the AWS endpoint of the region when absent. */
  readonly endpoint?: string
  readonly region: string
  /** The SDK's default provider chain (env AWS_ACCESS_KEY_ID, ...) when absent. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string }
  /** Called for each write request sent (a retry of it not counted again), with its table and operation. */
  readonly onWriteRequest?: (table: string, operation: WriteOperation) => void
}

/** The write operations the stores send (`DynamoItems.ts` counts each request with `onWriteRequest`). */
export const writeOperations = ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"] as const
export type WriteOperation = (typeof writeOperations)[number]

/**
 * The endpoint is `DYNAMODB_ENDPOINT`, else the SDK's own variables (`AWS_ENDPOINT_URL_DYNAMODB`,
 * `AWS_ENDPOINT_URL`), else the region's: the same one for the SDK client and the item client.
 */
export const clientOptionsConfig: Config.Config<DynamoClientOptions> = Config.all({
  endpoint: Config.option(
    Config.string("DYNAMODB_ENDPOINT").pipe(
      Config.orElse(() => Config.string("AWS_ENDPOINT_URL_DYNAMODB")),
      Config.orElse(() => Config.string("AWS_ENDPOINT_URL"))
    )
  ),
  region: Config.string("AWS_REGION").pipe(Config.withDefault("us-east-1"))
}).pipe(Config.map(({ endpoint, region }) => Option.match(endpoint, { onNone: () => ({ region }), onSome: (endpoint) => ({ endpoint, region }) })))

export const makeDocumentClient = (options: DynamoClientOptions) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const client = new DynamoDBClient({
        region: options.region,
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        ...(options.credentials === undefined ? {} : { credentials: { ...options.credentials } }),
        maxAttempts: 3
      })
      return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } })
    }),
    (client) => Effect.sync(() => client.destroy())
  )

/** Runs one SDK call, interruptible, mapping its rejection with `onError`. */
export const call = <A, E>(
  run: (signal: AbortSignal) => Promise<A>,
  onError: (cause: unknown) => E
): Effect.Effect<A, E> => Effect.tryPromise({ try: run, catch: onError })

/** DynamoDB's limits: keys per BatchGetItem, requests per BatchWriteItem. */
export const batchGetSize = 100
export const batchWriteSize = 25
/** Requests per page, the first included, before items DynamoDB keeps leaving unprocessed fail the call. */
const unprocessedAttempts = 4

/**
 * Sends one page of items with `send`, which resolves to what its request left unprocessed (BatchGetItem's
 * UnprocessedKeys, BatchWriteItem's UnprocessedItems): that is sent again after a backoff (50, 100, 200 ms),
 * up to `unprocessedAttempts` requests, then the page fails with `onUnprocessed`.
 */
export const sendPage = <A, E>(
  page: ReadonlyArray<A>,
  onUnprocessed: (message: string) => E,
  send: (page: ReadonlyArray<A>) => Effect.Effect<ReadonlyArray<A>, E>
): Effect.Effect<void, E> =>
  Effect.gen(function*() {
    let pending: ReadonlyArray<A> = page
    for (let attempt = 1; ; attempt++) {
      pending = yield* send(pending)
      if (pending.length === 0) return
      if (attempt === unprocessedAttempts) {
        return yield* Effect.fail(onUnprocessed(`${pending.length} of ${page.length} items unprocessed after ${attempt} requests`))
      }
      yield* Effect.sleep(Duration.millis(50 * 2 ** (attempt - 1)))
    }
  })

/** `sendPage` of the items in pages of `size`, `concurrency` pages at once; the first page to fail fails the call. */
export const sendInPages = <A, E>(
  items: ReadonlyArray<A>,
  size: number,
  concurrency: number,
  onUnprocessed: (message: string) => E,
  send: (page: ReadonlyArray<A>) => Effect.Effect<ReadonlyArray<A>, E>
): Effect.Effect<void, E> =>
  Effect.forEach(Arr.chunksOf(items, size), (page) => sendPage(page, onUnprocessed, send), { concurrency, discard: true })

export const isConditionalCheckFailed = (cause: unknown): boolean =>
  errorName(cause) === "ConditionalCheckFailedException"

export interface TableDefinition {
  readonly tableName: string
  readonly keySchema: ReadonlyArray<KeySchemaElement>
  readonly attributes: ReadonlyArray<AttributeDefinition>
  readonly localIndexes?: ReadonlyArray<LocalSecondaryIndex>
}

const describeTable = (client: DynamoDBDocumentClient, tableName: string) =>
  call((abortSignal) => client.send(new DescribeTableCommand({ TableName: tableName }), { abortSignal }), (cause) => cause)

/** Readiness: the table is described (the endpoint answers, the credentials hold, the table exists). */
export const ping = <E>(client: DynamoDBDocumentClient, tableName: string, onError: (cause: unknown) => E): Effect.Effect<void, E> =>
  describeTable(client, tableName).pipe(Effect.asVoid, Effect.mapError(onError))

const tableStatus = (client: DynamoDBDocumentClient, tableName: string) =>
  describeTable(client, tableName).pipe(
    Effect.map((out) => Option.some(out.Table?.TableStatus ?? "UNKNOWN")),
    Effect.catchIf((cause) => errorName(cause) === "ResourceNotFoundException", () => Effect.succeedNone)
  )

/**
 * Creates the table when missing (on-demand billing) and waits until it is ACTIVE, at most `timeout`.
 * Idempotent, and safe when several processes provision the same table at once.
 */
export const ensureTable = (
  client: DynamoDBDocumentClient,
  table: TableDefinition,
  timeout: Duration.DurationInput = Duration.seconds(30)
): Effect.Effect<void, unknown> =>
  Effect.gen(function*() {
    const status = yield* tableStatus(client, table.tableName)
    if (Option.isNone(status)) {
      yield* Effect.logInfo(`creating table ${table.tableName}`)
      yield* call(
        (abortSignal) =>
          client.send(
            new CreateTableCommand({
              TableName: table.tableName,
              KeySchema: [...table.keySchema],
              AttributeDefinitions: [...table.attributes],
              ...(table.localIndexes === undefined ? {} : { LocalSecondaryIndexes: [...table.localIndexes] }),
              BillingMode: "PAY_PER_REQUEST"
            }),
            { abortSignal }
          ),
        (cause) => cause
      ).pipe(Effect.catchIf((cause) => errorName(cause) === "ResourceInUseException", () => Effect.void))
    }
    // The SDK's waiter polls in real time (the server's), also under a test clock: from 100 ms, backing off to 1 s.
    yield* call(
      (abortSignal) =>
        waitUntilTableExists(
          { client, abortSignal, minDelay: 0.1, maxDelay: 1, maxWaitTime: Duration.toSeconds(timeout) },
          { TableName: table.tableName }
        ),
      (cause) => new Error(`table ${table.tableName} not ACTIVE within ${Duration.format(timeout)}`, { cause })
    )
  }).pipe(Effect.withSpan("Dynamo.ensureTable", { attributes: { table: table.tableName } }))

/**
 * Turns the table's TTL on for `attribute` unless it is on already. An endpoint without TTL (dynalite)
 * is logged, not fatal: the items then stay after their expiry, and the conditions still treat them
 * as expired.
 */
export const ensureTimeToLive = (client: DynamoDBDocumentClient, tableName: string, attribute: string): Effect.Effect<void> =>
  Effect.gen(function*() {
    const described = yield* call(
      (abortSignal) => client.send(new DescribeTimeToLiveCommand({ TableName: tableName }), { abortSignal }),
      (cause) => cause
    )
    const ttl = described.TimeToLiveDescription
    if ((ttl?.TimeToLiveStatus === "ENABLED" || ttl?.TimeToLiveStatus === "ENABLING") && ttl.AttributeName === attribute) return
    yield* call(
      (abortSignal) =>
        client.send(
          new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: attribute, Enabled: true } }),
          { abortSignal }
        ),
      (cause) => cause
    )
    yield* Effect.logInfo(`enabled TTL on ${tableName}.${attribute}`)
  }).pipe(
    Effect.catchAll((cause) =>
      Effect.logInfo(`TTL on ${tableName}.${attribute} not enabled (${causeMessage(cause)}): expired items stay, and count as expired`)
    ),
    Effect.withSpan("Dynamo.ensureTimeToLive", { attributes: { table: tableName } })
  )
