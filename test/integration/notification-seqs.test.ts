import { describe, expect, inject, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import http from "node:http"
import type { AddressInfo } from "node:net"
import * as NotificationStoreDynamo from "../../src/layers/NotificationStoreDynamo.js"
import { liveEnv, requireServers } from "../support/servers.js"
import { notificationOf } from "../support/notifications.js"
import { unique } from "../support/unique.js"

/**
 * The live store draws each seller's seqs from its counter in blocks: one counter write per block, and
 * `forgetDrawnSeqs` (the consumer's partitions moved) makes the next seq follow any other owner's.
 */
const env = inject("liveEnv") ?? liveEnv()
await requireServers(["dynamodb"], env)

const run = unique("q").slice(2, 14)

/**
 * An HTTP proxy in front of the store that answers 500 to every BatchWriteItem whose body mentions
 * `failing` (so each of the client's attempts fails) and forwards every other request.
 */
const failingWritesOf = (failing: string) =>
  Effect.acquireRelease(
    Effect.async<{ url: string; server: http.Server }>((resume) => {
      const target = new URL(env.DYNAMODB_ENDPOINT)
      const server = http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          const body = Buffer.concat(chunks)
          if (String(req.headers["x-amz-target"]).endsWith(".BatchWriteItem") && body.includes(failing)) {
            res.writeHead(500, { "content-type": "application/x-amz-json-1.0" })
              .end(JSON.stringify({ __type: "InternalServerError", message: "injected" }))
            return
          }
          const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers)
            answer.pipe(res)
          })
          upstream.end(body)
        })
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })))
    }),
    ({ server }) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
  )

/** A store on the run's tables (every instance shares them, as two service instances do), counting its writes. */
const storeWithWrites = (seqBlock?: number, endpoint = env.DYNAMODB_ENDPOINT) =>
  Effect.gen(function*() {
    const writes: Array<string> = []
    const store = yield* NotificationStoreDynamo.make({
      region: env.AWS_REGION,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
      endpoint,
      tableName: `test-${run}-notifications`,
      countersTableName: `test-${run}-notification-counters`,
      ...(seqBlock === undefined ? {} : { seqBlock }),
      onWriteRequest: (table, operation) => void writes.push(`${table.endsWith("counters") ? "counter" : "item"}:${operation}`)
    })
    return { store, writes }
  })

const seqsOf = (results: ReadonlyArray<Exit.Exit<{ readonly notification: { readonly seq: number } }, unknown> | undefined>) =>
  results.map((r) => (r !== undefined && Exit.isSuccess(r) ? r.value.notification.seq : undefined))

describe("NotificationStore on DynamoDB: seqs drawn in blocks", () => {
  it.scoped("a seller's 40 notifications cost two counter writes (blocks of 32) and take seqs 1..40 in order", () =>
    Effect.gen(function*() {
      const { store, writes } = yield* storeWithWrites()
      const sellerId = unique("seller")
      const seqs: Array<number | undefined> = []
      for (let from = 1; from <= 40; from += 5) {
        seqs.push(...seqsOf(yield* store.putMany([0, 1, 2, 3, 4].map((i) => notificationOf(sellerId, from + i)))))
      }
      expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
      expect(writes.filter((w) => w.startsWith("counter"))).toEqual(["counter:UpdateItem", "counter:UpdateItem"])
      expect(writes.filter((w) => w.startsWith("item"))).toHaveLength(40)
      expect((yield* store.list(sellerId, { limit: 50, order: "asc" })).map((n) => n.seq)).toEqual(seqs)
    }))

  it.scoped("a seller back from another owner, once drawn seqs are forgotten, gets seqs after that owner's", () =>
    Effect.gen(function*() {
      const a = yield* storeWithWrites()
      const b = yield* storeWithWrites()
      const sellerId = unique("seller")
      const first = yield* a.store.put(notificationOf(sellerId, 1))
      // The seller's partition moves to b (a keeps the rest of its block), then back to a.
      const moved = yield* b.store.put(notificationOf(sellerId, 2))
      yield* a.store.forgetDrawnSeqs
      const back = yield* a.store.put(notificationOf(sellerId, 3))
      expect(first.notification.seq).toBe(1)
      expect(moved.notification.seq).toBeGreaterThan(first.notification.seq)
      expect(back.notification.seq).toBeGreaterThan(moved.notification.seq)
      expect((yield* a.store.list(sellerId, { limit: 10, order: "asc" })).map((n) => n.id)).toEqual(
        [1, 2, 3].map((n) => notificationOf(sellerId, n).id)
      )
    }))

  it.scoped("seqBlock 1 draws each seq alone: one counter write per notification", () =>
    Effect.gen(function*() {
      const { store, writes } = yield* storeWithWrites(1)
      const sellerId = unique("seller")
      for (const n of [1, 2, 3]) yield* store.put(notificationOf(sellerId, n))
      yield* store.putMany([notificationOf(sellerId, 4), notificationOf(sellerId, 5)])
      // putMany draws a seller's seqs at once even so.
      expect(writes.filter((w) => w.startsWith("counter"))).toHaveLength(4)
    }))

  // Live: the client backs off between its attempts on the real clock.
  it.live("putMany writes a seller's nth new notification only once its earlier ones are stored: a failed write leaves no later one", () =>
    Effect.scoped(Effect.gen(function*() {
      const a = unique("seller")
      const b = unique("seller")
      const proxy = yield* failingWritesOf(notificationOf(a, 2).id)
      const { store } = yield* storeWithWrites(undefined, proxy.url)
      // More sellers than a request holds between a's 2 and 3: written in input order, 3 would be in another request.
      const others = Array.from({ length: 30 }, () => notificationOf(unique("seller"), 1))
      const results = yield* store.putMany([notificationOf(a, 1), notificationOf(b, 1), notificationOf(a, 2), ...others, notificationOf(a, 3)])
      const outcomes = results.map((r) => (r === undefined ? "unattempted" : Exit.isSuccess(r) ? "stored" : "failed"))
      expect(outcomes).toEqual(["stored", "stored", "failed", ...others.map(() => "stored"), "unattempted"])
      // Nothing of the seller past its failure is stored: written again, 2 and 3 take seqs after 1, in order.
      const { store: healed } = yield* storeWithWrites()
      expect((yield* healed.list(a, { limit: 10, order: "asc" })).map((n) => n.id)).toEqual([notificationOf(a, 1).id])
      const again = seqsOf(yield* healed.putMany([notificationOf(a, 2), notificationOf(a, 3)]))
      const first = seqsOf(results)[0]!
      expect(again[0]! > first && again[1]! > again[0]!).toBe(true)
      expect((yield* healed.list(a, { limit: 10, order: "asc" })).map((n) => n.id)).toEqual([1, 2, 3].map((n) => notificationOf(a, n).id))
      expect((yield* healed.list(b, { limit: 10, order: "asc" })).map((n) => n.id)).toEqual([notificationOf(b, 1).id])
      expect((yield* healed.list(others[29]!.sellerId, { limit: 10, order: "asc" })).map((n) => n.id)).toEqual([others[29]!.id])
    })))
})
