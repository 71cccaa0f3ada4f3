import { describe, expect, it } from "@effect/vitest"
import { compatibilityProblems, type JsonSchema } from "../../src/contracts/compatibility.js"
import { eventContractsJsonSchema } from "../../src/contracts/jsonSchema.js"

type Mutable = { [key: string]: any }

const released = (): Mutable => structuredClone(eventContractsJsonSchema())

/** Given the current schema as released, when `change` is applied, then these are the problems. */
const problemsAfter = (change: (schema: Mutable) => void): ReadonlyArray<string> => {
  const current = released()
  change(current)
  return compatibilityProblems(released(), current)
}

const small = (properties: Mutable, required: ReadonlyArray<string> = []): JsonSchema => ({
  $ref: "#/$defs/Root",
  $defs: {
    Root: { anyOf: [{ $ref: "#/$defs/Thing" }] },
    Thing: { type: "object", required, properties }
  }
})

describe("compatibilityProblems (BACKWARD)", () => {
  describe("passes", () => {
    it("an unchanged schema", () => {
      expect(compatibilityProblems(released(), released())).toEqual([])
    })

    it("a new optional property", () => {
      expect(problemsAfter((s) => {
        s.$defs.ProductState.properties.brand = { type: "string", maxLength: 100 }
      })).toEqual([])
    })

    it("a new event type", () => {
      expect(problemsAfter((s) => {
        s.$defs.ProductRestocked = structuredClone(s.$defs.LowStockWarning)
        s.$defs.ProductEvent.anyOf.push({ $ref: "#/$defs/ProductRestocked" })
      })).toEqual([])
    })

    it("widened bounds, an added enum value, a removed pattern, integer to number", () => {
      expect(problemsAfter((s) => {
        s.$defs.ProductName.maxLength = 500
        s.$defs.StockUnits.maximum = 10_000_000_000
        s.$defs.Currency.enum.push("XAU")
        delete s.$defs.Category.pattern
        s.$defs.MinorUnits.type = "number"
      })).toEqual([])
    })

    it("new descriptions and examples", () => {
      expect(problemsAfter((s) => {
        s.$defs.Money.description = "Money."
        s.$defs.Money.examples = [{ amountMinor: 1, currency: "USD" }]
      })).toEqual([])
    })
  })

  describe("fails, naming the path", () => {
    it("a removed property", () => {
      expect(problemsAfter((s) => {
        const data = s.$defs.LowStockWarningData
        delete data.properties.name
        data.required = data.required.filter((r: string) => r !== "name")
      })).toEqual(["LowStockWarning.data.name: property removed (or renamed)"])
    })

    it("a renamed property (a removal plus a new required property)", () => {
      expect(problemsAfter((s) => {
        const data = s.$defs.LowStockWarningData
        data.properties.productName = data.properties.name
        delete data.properties.name
        data.required = data.required.map((r: string) => (r === "name" ? "productName" : r))
      })).toEqual([
        "LowStockWarning.data.name: property removed (or renamed)",
        "LowStockWarning.data.productName: new required property"
      ])
    })

    it("a new required property", () => {
      expect(problemsAfter((s) => {
        s.$defs.Money.properties.scale = { type: "integer" }
        s.$defs.Money.required.push("scale")
      })).toEqual(["ProductCreated.data.product.price.scale: new required property"])
    })

    it("an optional property that became required", () => {
      expect(problemsAfter((s) => {
        s.$defs.ProductChanges.required = ["price"]
      })).toEqual(["ProductUpdated.data.changes.price: optional property became required"])
    })

    it("a narrowed type set", () => {
      const before = small({ note: { type: ["string", "null"] } })
      const after = small({ note: { type: "string" } })
      expect(compatibilityProblems(before, after)).toEqual(['Thing.note: type narrowed from ["string","null"] to ["string"]'])
    })

    it("a number that became an integer", () => {
      expect(compatibilityProblems(small({ n: { type: "number" } }), small({ n: { type: "integer" } })))
        .toEqual(['Thing.n: type narrowed from ["number"] to ["integer"]'])
    })

    it("removed enum values", () => {
      expect(problemsAfter((s) => {
        s.$defs.Currency.enum = s.$defs.Currency.enum.filter((c: string) => c !== "ZWG" && c !== "XCG")
      })).toEqual(['ProductCreated.data.product.price.currency: enum values removed: "XCG", "ZWG"'])
    })

    it("a raised minimum and a lowered maximum", () => {
      expect(problemsAfter((s) => {
        s.$defs.StockUnits.minimum = 1
        s.$defs.StockUnits.maximum = 1000
      })).toEqual([
        "ProductCreated.data.product.stock: minimum raised from 0 to 1",
        "ProductCreated.data.product.stock: maximum lowered from 1000000000 to 1000"
      ])
    })

    it("a raised minLength and a lowered maxLength", () => {
      expect(problemsAfter((s) => {
        s.$defs.ProductName.minLength = 3
        s.$defs.ProductName.maxLength = 80
      })).toEqual([
        "ProductCreated.data.product.name: minLength raised from 1 to 3",
        "ProductCreated.data.product.name: maxLength lowered from 200 to 80"
      ])
    })

    it("a changed pattern, even one that looks wider", () => {
      expect(problemsAfter((s) => {
        s.$defs.SellerId.pattern = "^[A-Za-z0-9_]{1,128}$"
      })).toEqual(['ProductCreated.data.sellerId: pattern changed from "^[A-Za-z0-9_]{1,64}$" to "^[A-Za-z0-9_]{1,128}$"'])
    })

    it("an added pattern", () => {
      expect(problemsAfter((s) => {
        s.$defs.ProductName.pattern = "^\\S"
      })).toEqual(['ProductCreated.data.product.name: pattern "^\\\\S" added'])
    })

    it("a removed event type", () => {
      expect(problemsAfter((s) => {
        delete s.$defs.LowStockWarning
        delete s.$defs.LowStockWarningData
        s.$defs.ProductEvent.anyOf = s.$defs.ProductEvent.anyOf.filter((m: { $ref: string }) => !m.$ref.endsWith("/LowStockWarning"))
      })).toEqual(["LowStockWarning: event type removed"])
    })

    it("additional properties forbidden", () => {
      expect(problemsAfter((s) => {
        s.$defs.Money.additionalProperties = false
      })).toEqual(["ProductCreated.data.product.price: no longer allows additional properties"])
    })

    it("a removed nested union member", () => {
      const before = small({ v: { anyOf: [{ type: "string" }, { type: "integer" }] } })
      const after = small({ v: { anyOf: [{ type: "string" }] } })
      expect(compatibilityProblems(before, after)).toEqual(["Thing.v|1: union member removed"])
    })
  })
})

describe("compatibilityProblems (FULL: old readers of new events too)", () => {
  const fullAfter = (change: (schema: Mutable) => void): ReadonlyArray<string> => {
    const current = released()
    change(current)
    return compatibilityProblems(released(), current, "FULL")
  }

  it("passes an unchanged schema, a new optional property, a new event type, new descriptions", () => {
    expect(compatibilityProblems(released(), released(), "FULL")).toEqual([])
    expect(fullAfter((s) => {
      s.$defs.ProductState.properties.brand = { type: "string", maxLength: 100 }
      s.$defs.ProductRestocked = structuredClone(s.$defs.LowStockWarning)
      s.$defs.ProductEvent.anyOf.push({ $ref: "#/$defs/ProductRestocked" })
      s.$defs.Money.description = "Money."
    })).toEqual([])
  })

  it("fails the widenings an old consumer would reject: a new currency, a longer maxLength, a higher maximum", () => {
    expect(fullAfter((s) => {
      s.$defs.Currency.enum.push("XAU")
      s.$defs.ProductName.maxLength = 500
      s.$defs.StockUnits.maximum = 10_000_000_000
    })).toEqual([
      "ProductCreated.data.product.name: maxLength raised from 200 to 500",
      'ProductCreated.data.product.price.currency: enum values added: "XAU"',
      "ProductCreated.data.product.stock: maximum raised from 1000000000 to 10000000000"
    ])
  })

  it("fails a removed pattern, an integer that became a number, and a required property made optional", () => {
    expect(fullAfter((s) => {
      delete s.$defs.Category.pattern
      s.$defs.MinorUnits.type = "number"
      s.$defs.LowStockWarningData.required = s.$defs.LowStockWarningData.required.filter((r: string) => r !== "name")
    })).toEqual(expect.arrayContaining([
      expect.stringMatching(/\.category: pattern ".+" removed$/),
      'ProductCreated.data.product.price.amountMinor: type widened from ["integer"] to ["number"]',
      "LowStockWarning.data.name: required property became optional"
    ]))
  })

  it("reports both directions of one change once each: narrowing fails backward, as before", () => {
    expect(fullAfter((s) => {
      s.$defs.StockUnits.minimum = 1
    })).toEqual(["ProductCreated.data.product.stock: minimum raised from 0 to 1"])
    expect(fullAfter((s) => {
      s.$defs.SellerId.pattern = "^[A-Za-z0-9_]{1,128}$"
    })).toEqual(['ProductCreated.data.sellerId: pattern changed from "^[A-Za-z0-9_]{1,64}$" to "^[A-Za-z0-9_]{1,128}$"'])
  })

  it("a new union member and a new property where additional properties are forbidden fail forward", () => {
    const before = small({ v: { anyOf: [{ type: "string" }] } })
    const after = small({ v: { anyOf: [{ type: "string" }, { type: "integer" }] } })
    expect(compatibilityProblems(before, after, "FULL")).toEqual(["Thing.v|1: union member added"])
    const closed = (properties: Mutable): JsonSchema => ({
      $ref: "#/$defs/Root",
      $defs: {
        Root: { anyOf: [{ $ref: "#/$defs/Thing" }] },
        Thing: { type: "object", required: [], properties, additionalProperties: false }
      }
    })
    expect(compatibilityProblems(closed({ a: { type: "string" } }), closed({ a: { type: "string" }, b: { type: "string" } }), "FORWARD"))
      .toEqual(["Thing.b: property added where the old version forbids additional properties"])
  })
})
