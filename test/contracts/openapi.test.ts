import { Validator } from "@seriousme/openapi-schema-validator"
import { describe, expect, it } from "vitest"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { ProductEventsApi } from "../../src/domain/HttpApi.js"
import { problemStatus } from "../../src/domain/HttpErrors.js"

const committed = JSON.parse(
  readFileSync(fileURLToPath(new URL("../../contracts/openapi.json", import.meta.url)), "utf8")
) as {
  openapi: string
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }> }>; security?: unknown }>>
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> }
}

const declared = Object.values(ProductEventsApi.groups).flatMap((group) =>
  Object.values(group.endpoints).map((e) => ({ method: e.method.toLowerCase(), path: e.path.replace(/:(\w+)/g, "{$1}") }))
)

describe("contracts/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document by an independent validator", async () => {
    expect(committed.openapi).toBe("3.1.0")
    const result = await new Validator().validate(committed as never)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    // and the validator does reject: a response without its required description
    const broken = structuredClone(committed)
    delete (broken.paths["/healthz"]!.get!.responses["200"] as { description?: string }).description
    expect((await new Validator().validate(broken as never)).valid).toBe(false)
  })

  it("has every declared route, each with a success and a body schema for every status", () => {
    expect(declared.length).toBe(7)
    for (const { method, path } of declared) {
      const operation = committed.paths[path]?.[method]
      expect(operation, `${method} ${path}`).toBeDefined()
      const statuses = Object.keys(operation!.responses)
      expect(statuses.some((s) => s.startsWith("2")), `${method} ${path} has a 2xx`).toBe(true)
      for (const status of statuses) {
        const content = operation!.responses[status]!.content
        expect(content, `${method} ${path} ${status} has a body`).toBeDefined()
        for (const media of Object.values(content!)) expect(media.schema).toBeDefined()
      }
    }
    expect(Object.keys(committed.paths).length).toBe(new Set(declared.map((d) => d.path)).size)
  })

  it("documents auth, the seller routes' errors, 413 and the SSE stream's media type", () => {
    const seller = ["/sellers/{sellerId}/notifications", "/sellers/{sellerId}/notifications/stream", "/sellers/{sellerId}/metrics"]
    for (const path of seller) {
      const responses = committed.paths[path]!.get!.responses
      for (const status of [400, 401, 403, 503]) expect(Object.keys(responses), path).toContain(String(status))
    }
    expect(Object.keys(committed.paths["/events"]!.post!.responses)).toEqual(
      expect.arrayContaining(["202", "400", "401", "403", String(problemStatus.PayloadTooLarge), "503"])
    )
    expect(Object.keys(committed.paths["/sellers/{sellerId}/notifications/stream"]!.get!.responses["200"]!.content!)).toEqual(["text/event-stream"])
    expect(committed.paths["/sellers/{sellerId}/notifications/stream"]!.get!.security).toEqual([{ accessToken: [] }, { bearer: [] }])
    expect(committed.paths["/events"]!.post!.security).toEqual([{ bearer: [] }])
    expect(Object.keys(committed.components.securitySchemes).sort()).toEqual(["accessToken", "bearer"])
    for (const name of ["StoredNotification", "NotificationPage", "SellerMetrics", "BadRequest", "Unavailable", "ProductEvent"]) {
      expect(committed.components.schemas[name], name).toBeDefined()
    }
  })
})
