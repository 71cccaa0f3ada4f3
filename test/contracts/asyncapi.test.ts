import { Parser } from "@asyncapi/parser"
import { readFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import { parse } from "yaml"
import { renderAsyncApi } from "../../src/contracts/asyncapi.js"
import { consumers, deadLetterTopic, nominalDelays } from "../../src/domain/Consumers.js"
import { deadLetterHeaders } from "../../src/domain/DeadLetter.js"
import { eventTypes } from "../../src/domain/ProductEvent.js"

const DiagnosticError = 0
const committed = () => readFileSync(new URL("../../contracts/asyncapi.yaml", import.meta.url), "utf8")

describe("contracts/asyncapi.yaml", () => {
  it("parses with @asyncapi/parser without errors (the committed file)", async () => {
    const { document, diagnostics } = await new Parser().parse(committed())
    const errors = diagnostics
      .filter((d) => d.severity === DiagnosticError)
      .map((d) => `${d.code}: ${d.message} at ${d.path.join(".")}`)
    expect(errors).toEqual([])
    expect(document).toBeDefined()
    expect(document!.channels().get("productEvents")?.address()).toBe("product-events")
    expect(document!.messages().all().map((m) => m.name()).sort()).toEqual([...eventTypes, "DeadLetter"].sort())
    expect(document!.operations().filterByReceive().length).toBe(consumers.length * 2)
  })

  it("describes the topic, the key, the consumers and their dead-letter channels", () => {
    const doc = parse(renderAsyncApi())
    expect(doc.asyncapi).toBe("3.0.0")
    expect(doc.channels.productEvents.bindings.kafka).toMatchObject({ topic: "product-events", partitions: 12 })
    for (const t of eventTypes) {
      const message = doc.components.messages[t]
      expect(message.bindings.kafka.key).toEqual({ $ref: "#/components/schemas/SellerId" })
      expect(message.headers.properties.eventType.const).toBe(t)
      expect(message.examples.length).toBeGreaterThan(0)
    }
    for (const c of consumers) {
      const ops = Object.values(doc.operations) as Array<any>
      const receive = ops.find((o) => o.bindings?.kafka?.groupId?.enum?.[0] === c.group)
      expect(receive.action).toBe("receive")
      expect(receive.messages.map((m: { $ref: string }) => m.$ref.split("/").pop())).toEqual(c.subscribes)
      expect(receive["x-retry-policy"].nominalDelaysMillis).toEqual(nominalDelays(c.retry))
      const dlq = Object.values(doc.channels).find((ch: any) => ch.address === deadLetterTopic(c.group))
      expect(dlq).toBeDefined()
    }
    expect(Object.keys(doc.components.messages.DeadLetter.headers.properties)).toEqual(
      expect.arrayContaining(Object.values(deadLetterHeaders))
    )
    expect(Object.values(doc.operations).filter((o: any) => o.action === "send" && o.channel.$ref === "#/channels/productEvents"))
      .toHaveLength(1)
  })
})
