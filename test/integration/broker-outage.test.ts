import { randomBytes } from "node:crypto"
import { beforeAll, describe, expect, it } from "vitest"
import { created, encode } from "../support/events.js"
import { usePrivateStack } from "../support/privateStack.js"
import { bearer, counterSum, eventually, lastLogs, type Program, sleep, waitReady } from "../support/processes.js"
import { requireServers } from "../support/servers.js"

/**
 * A Kafka outage, on a broker of this test's own (the shared one is never stopped): the gateway answers
 * 503 with retry-after within 2 s while the broker is down and 202 within 2 s of its return; the
 * notification-service's consumer, crashed and restarted by its Kafka client meanwhile (counted), consumes
 * again within 10 s of the return; and every event accepted with 202 is consumed.
 */

await requireServers(["redis", "dynamodb"])

const run = randomBytes(4).toString("hex")
const seller = `outage_${run}`
// DynamoDB and Redis are the shared ones: this run's seller is its own.
const stack = usePrivateStack({ prefix: `outage-${run}` })
let gateway: Program
let notification: Program
let n = 0
const accepted: Array<string> = []

/** POSTs the seller's next event; the status, the time it took, and retry-after. */
const post = async () => {
  const event = created(seller, `p${n}`, Date.parse("2026-11-26T20:00:00.000Z") + n++)
  const started = Date.now()
  const response = await fetch(`${gateway.baseUrl}/events`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(await bearer({ role: "service" })) },
    body: JSON.stringify(encode(event)),
    signal: AbortSignal.timeout(30_000)
  })
  await response.text()
  if (response.status === 202) accepted.push(event.eventId)
  return { status: response.status, millis: Date.now() - started, retryAfter: response.headers.get("retry-after") }
}

const consumed = () => counterSum(notification, "events_consumed_total", { group: "notification-service" })

beforeAll(async () => {
  gateway = await stack.launch("gateway", "gateway")
  notification = await stack.launch("notification", "notification")
  await Promise.all([waitReady(gateway, 90_000), waitReady(notification, 90_000)])
  await eventually("notification-service joins its group", async () => {
    const members = await stack.admin.stableMembers("notification-service")
    return members?.includes(notification.clientId) ? true : undefined
  }, 60_000, () => lastLogs(notification))
}, 240_000)

describe("a Kafka outage", () => {
  it("503 within 2 s while down, 202 within 2 s of the return, consumption within 10 s, restarts counted, nothing accepted lost", async () => {
    expect((await post()).status).toBe(202)
    await eventually("the first event is consumed", async () => ((await consumed()) >= 1 ? true : undefined), 30_000)

    await stack.kafka.stop()
    const down = Date.now()
    const whileDown: Array<Awaited<ReturnType<typeof post>>> = []
    // Clients keep posting through the outage (as a retrying producer would), for ~12 s: long enough
    // for the consumer's client to crash and restart.
    while (Date.now() - down < 12_000) {
      whileDown.push(await post())
      await sleep(200)
    }
    for (const answer of whileDown) {
      expect(answer.status).toBe(503)
      expect(answer.millis).toBeLessThanOrEqual(2_000)
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1)
    }

    await stack.kafka.start()
    const back = Date.now()
    const before = await consumed()
    let first: Awaited<ReturnType<typeof post>> | undefined
    while (Date.now() - back < 30_000) {
      const answer = await post()
      if (answer.status === 202) {
        first = answer
        break
      }
      await sleep(100)
    }
    const acceptedAfter = Date.now() - back
    expect(first?.status).toBe(202)
    expect(acceptedAfter).toBeLessThanOrEqual(2_000)

    await eventually("consumption resumes", async () => ((await consumed()) > before ? true : undefined), 30_000, () => lastLogs(notification))
    const resumedAfter = Date.now() - back
    console.log(`broker outage: ${whileDown.length} posts answered 503 in at most ${Math.max(...whileDown.map((a) => a.millis))} ms; ` +
      `202 again ${acceptedAfter} ms and consumption ${resumedAfter} ms after the broker's return`)
    expect(resumedAfter).toBeLessThanOrEqual(10_000)

    // Restarts by the Kafka client (by="client") count, as the engine's own do.
    const restarts = await counterSum(notification, "consumer_restarts_total", { group: "notification-service", by: "client" })
    console.log(`consumer restarts by the Kafka client during the outage: ${restarts}`)
    expect(restarts).toBeGreaterThanOrEqual(1)

    // Nothing accepted is lost: every 202's event becomes a notification.
    await eventually("every accepted event is a notification", async () => {
      const response = await fetch(`${notification.baseUrl}/sellers/${seller}/notifications?limit=100`, {
        headers: await bearer({ sellerId: seller })
      })
      const ids = response.ok ? ((await response.json()) as { items: Array<{ id: string }> }).items.map((i) => i.id) : []
      return accepted.every((id) => ids.includes(id)) ? true : undefined
    }, 30_000, () => `accepted ${accepted.length}`)
  }, 180_000)
})
