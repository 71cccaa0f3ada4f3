import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, TestClock } from "effect"
import http from "node:http"
import type { AddressInfo } from "node:net"
import { makeDocumentClient } from "../../src/layers/Dynamo.js"
import { DynamoRequestError, makeItemClient } from "../../src/layers/DynamoItems.js"

/**
 * The item client's own behaviour against a server that answers as DynamoDB does (its JSON protocol):
 * signing, marshalling, error names, and which failures are tried again, on the Effect clock. Its
 * requests against a real store are the MetricsStore and NotificationStore contract tests on dynalite.
 */
interface Answer {
  readonly status: number
  /** JSON, or text sent as it is; `undefined` never answers (a stalled connection). */
  readonly body: unknown
}

const startServer = (answers: Array<Answer>) =>
  Effect.acquireRelease(
    Effect.async<{ url: string; requests: Array<{ headers: http.IncomingHttpHeaders; body: unknown }>; server: http.Server }>((resume) => {
      const requests: Array<{ headers: http.IncomingHttpHeaders; body: unknown }> = []
      const server = http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          requests.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) })
          const answer = answers.shift() ?? { status: 500, body: { __type: "InternalServerError", message: "no answer left" } }
          if (answer.body === undefined) return
          res.writeHead(answer.status, { "content-type": "application/x-amz-json-1.0" })
            .end(typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body))
        })
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server })))
    }),
    ({ server }) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
  )

const clientFor = (url: string, writes: Array<string> = [], attemptTimeout?: Duration.Duration) =>
  Effect.gen(function*() {
    const options = {
      endpoint: url,
      region: "eu-west-1",
      credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
      onWriteRequest: (table: string, operation: string) => void writes.push(`${table} ${operation}`)
    }
    return yield* makeItemClient(options, yield* makeDocumentClient(options), attemptTimeout)
  })

const throttled: Answer = { status: 400, body: { __type: "com.amazonaws.dynamodb.v20120810#ThrottlingException", message: "Rate exceeded" } }

/** Waits (in real time) until the server has seen `n` requests. */
const requestsReach = (requests: ReadonlyArray<unknown>, n: number) =>
  Effect.promise(async () => {
    while (requests.length < n) await new Promise((resolve) => setTimeout(resolve, 5))
  })

/** Moves the clock on in small steps (back-offs are scheduled a moment after a failure) until the server has seen `n` requests. */
const advanceUntil = (requests: ReadonlyArray<unknown>, n: number) =>
  Effect.gen(function*() {
    while (requests.length < n) {
      yield* TestClock.adjust("100 millis")
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
    }
  })

describe("DynamoItems", () => {
  it.scoped("sends a signed, marshalled request and unmarshalls the answer", () =>
    Effect.gen(function*() {
      const server = yield* startServer([{ status: 200, body: { Attributes: { lastSeq: { N: "64" } } } }])
      const client = yield* clientFor(server.url)
      const out = yield* client.call("UpdateItem", {
        TableName: "counters",
        Key: { sellerId: "seller_1" },
        UpdateExpression: "ADD lastSeq :n",
        ExpressionAttributeValues: { ":n": 32 }
      }, (cause) => cause)
      expect(out.Attributes).toEqual({ lastSeq: 64 })
      const [request] = server.requests
      expect(request!.headers["x-amz-target"]).toBe("DynamoDB_20120810.UpdateItem")
      expect(request!.headers["authorization"]).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/dynamodb\/aws4_request/)
      expect(request!.body).toEqual({
        TableName: "counters",
        Key: { sellerId: { S: "seller_1" } },
        UpdateExpression: "ADD lastSeq :n",
        ExpressionAttributeValues: { ":n": { N: "32" } }
      })
    }))

  it.scoped("a throttled request is tried again after a back-off on the Effect clock, and counted as one write", () =>
    Effect.gen(function*() {
      const server = yield* startServer([throttled, { status: 200, body: {} }])
      const writes: Array<string> = []
      const client = yield* clientFor(server.url, writes)
      const fiber = yield* Effect.fork(client.call("PutItem", { TableName: "t", Item: { sellerId: "s", id: "a" } }, (cause) => cause))
      yield* requestsReach(server.requests, 1)
      // The back-off waits on the clock: nothing is sent again until it moves.
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
      expect(server.requests).toHaveLength(1)
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(fiber)).toEqual({})
      expect(server.requests).toHaveLength(2)
      expect(writes).toEqual(["t PutItem"])
    }))

  it.scoped("a refused condition fails at once, named as DynamoDB names it", () =>
    Effect.gen(function*() {
      const server = yield* startServer([{
        status: 400,
        body: { __type: "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", message: "The conditional request failed" }
      }])
      const client = yield* clientFor(server.url)
      const exit = yield* Effect.exit(client.call("PutItem", { TableName: "t", Item: { id: "a" }, ConditionExpression: "attribute_not_exists(id)" }, (cause) => cause))
      expect(exit).toStrictEqual(Exit.fail(expect.any(DynamoRequestError)))
      const error = Exit.isFailure(exit) ? (exit.cause as { error?: DynamoRequestError }).error : undefined
      expect(error?.name).toBe("ConditionalCheckFailedException")
      expect(error?.message).toBe("The conditional request failed")
      expect(server.requests).toHaveLength(1)
    }))

  it.scoped("a 5xx is tried 3 times in all, then its error is the failure", () =>
    Effect.gen(function*() {
      const server = yield* startServer([])
      const client = yield* clientFor(server.url)
      const fiber = yield* Effect.fork(Effect.flip(client.call("GetItem", { TableName: "t", Key: { id: "a" } }, (cause) => cause)))
      yield* advanceUntil(server.requests, 3)
      const error = yield* Fiber.join(fiber)
      expect(error).toBeInstanceOf(DynamoRequestError)
      expect((error as DynamoRequestError).statusCode).toBe(500)
      expect(server.requests).toHaveLength(3)
    }))

  it.scoped("an attempt whose connection stays silent (the socket's timeout), or answered by a proxy's non-JSON 502, is tried again", () =>
    Effect.gen(function*() {
      const server = yield* startServer([{ status: 200, body: undefined }, { status: 502, body: "<html>Bad Gateway</html>" }, { status: 200, body: { Item: { id: { S: "a" } } } }])
      // The socket's idle timer is Node's, in real time: short here.
      const client = yield* clientFor(server.url, [], Duration.millis(100))
      const fiber = yield* Effect.fork(client.call("GetItem", { TableName: "t", Key: { id: "a" } }, (cause) => cause))
      yield* advanceUntil(server.requests, 3)
      expect(yield* Fiber.join(fiber)).toEqual({ Item: { id: "a" } })
      expect(server.requests).toHaveLength(3)
    }))

  it.scoped("an input that cannot be marshalled fails the call with the store's error, sending nothing", () =>
    Effect.gen(function*() {
      const server = yield* startServer([])
      const client = yield* clientFor(server.url)
      const error = yield* Effect.flip(client.call("PutItem", { TableName: "t", Item: { id: "a", n: Number.NaN } }, (cause) => ({ mapped: cause })))
      expect(error).toMatchObject({ mapped: expect.any(Error) })
      expect(server.requests).toHaveLength(0)
    }))

  it.scoped("a query follows LastEvaluatedKey until the pages end, or stops at the limit", () =>
    Effect.gen(function*() {
      const page = (ids: ReadonlyArray<string>, last?: string) => ({
        status: 200,
        body: { Items: ids.map((id) => ({ id: { S: id } })), ...(last === undefined ? {} : { LastEvaluatedKey: { id: { S: last } } }) }
      })
      const server = yield* startServer([page(["a", "b"], "b"), page(["c"]), page(["x", "y"], "y")])
      const client = yield* clientFor(server.url)
      const all = yield* client.query({ TableName: "t", KeyConditionExpression: "id = :id", ExpressionAttributeValues: { ":id": "a" } }, (cause) => cause)
      expect(all).toEqual([{ id: "a" }, { id: "b" }, { id: "c" }])
      expect((server.requests[1]!.body as Record<string, unknown>)["ExclusiveStartKey"]).toEqual({ id: { S: "b" } })
      const limited = yield* client.query({ TableName: "t", KeyConditionExpression: "id = :id", ExpressionAttributeValues: { ":id": "x" } }, (cause) => cause, 2)
      expect(limited).toEqual([{ id: "x" }, { id: "y" }])
      expect((server.requests[2]!.body as Record<string, unknown>)["Limit"]).toBe(2)
      expect(server.requests).toHaveLength(3)
    }))
})
