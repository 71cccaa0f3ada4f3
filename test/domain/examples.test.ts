import { describe, expect, it } from "vitest"
import { Either, Option, Schema, SchemaAST } from "effect"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { ProductEvent } from "../../src/domain/ProductEvent.js"
import { ajvAt, ajvValidate, contractSchema, decoderIssues } from "../support/validators.js"

/** Every `examples` annotation reachable from the union, with the schema that carries it. */
const effectExamples = (root: SchemaAST.AST) => {
  const found: Array<{ readonly where: string; readonly ast: SchemaAST.AST; readonly example: unknown }> = []
  const seen = new Set<SchemaAST.AST>()
  const visit = (ast: SchemaAST.AST): void => {
    if (seen.has(ast)) return
    seen.add(ast)
    const examples = SchemaAST.getExamplesAnnotation(ast)
    if (examples._tag === "Some") {
      const where = Option.getOrElse(SchemaAST.getIdentifierAnnotation(ast), () => String(ast))
      for (const example of examples.value) found.push({ where, ast, example })
    }
    switch (ast._tag) {
      case "Refinement":
        return visit(ast.from)
      case "Transformation":
        return (visit(ast.from), visit(ast.to))
      case "Union":
        return ast.types.forEach(visit)
      case "TypeLiteral":
        return ast.propertySignatures.forEach((p) => visit(p.type))
      case "TupleType":
        return (ast.elements.forEach((e) => visit(e.type)), ast.rest.forEach((r) => visit(r.type)))
      case "Suspend":
        return visit(ast.f())
      default:
        return
    }
  }
  visit(root)
  return found
}

/** Every `examples` keyword of the generated JSON Schema, with the JSON pointer of its node. */
const jsonSchemaExamples = (node: unknown, pointer = ""): Array<{ pointer: string; example: unknown }> => {
  if (typeof node !== "object" || node === null) return []
  const here = Array.isArray((node as { examples?: unknown }).examples)
    ? ((node as { examples: Array<unknown> }).examples).map((example) => ({ pointer, example }))
    : []
  return here.concat(
    Object.entries(node).flatMap(([key, child]) =>
      key === "examples" ? [] : jsonSchemaExamples(child, `${pointer}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`)
    )
  )
}

const examplesDir = join(process.cwd(), "contracts", "examples")
const exampleFiles = existsSync(examplesDir) ? readdirSync(examplesDir).filter((f) => f.endsWith(".json")) : []

describe("examples agree with both validators", () => {
  const annotated = effectExamples(ProductEvent.ast)

  it("the four events carry at least one example each", () => {
    for (const type of ["ProductCreated", "ProductUpdated", "ProductDeleted", "LowStockWarning"]) {
      expect(annotated.some((e) => e.where === type), type).toBe(true)
    }
  })

  it.each(annotated.map((e) => [e.where, e] as const))("Effect Schema accepts the %s example", (_, { ast, example }) => {
    const result = Schema.decodeUnknownEither(Schema.make(ast))(example)
    expect(Either.isRight(result), String(Either.isLeft(result) && result.left.message)).toBe(true)
  })

  const event = annotated.filter((e) => ["ProductCreated", "ProductUpdated", "ProductDeleted", "LowStockWarning"].includes(e.where))
  it.each(event.map((e) => [e.where, e.example] as const))("the %s example is a valid ProductEvent for both", (_, example) => {
    expect(decoderIssues(example)).toEqual([])
    expect(ajvValidate(example), JSON.stringify(ajvValidate.errors)).toBe(true)
  })

  const inJsonSchema = jsonSchemaExamples(contractSchema)
  it("the JSON Schema carries the examples", () => {
    expect(inJsonSchema.length).toBeGreaterThanOrEqual(annotated.length)
  })

  it.each(inJsonSchema.map((e) => [e.pointer, e.example] as const))("ajv accepts the example at %s", (pointer, example) => {
    const validate = ajvAt(pointer)
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true)
  })

  it.each(exampleFiles)("contracts/examples/%s passes both validators", (file) => {
    const example: unknown = JSON.parse(readFileSync(join(examplesDir, file), "utf8"))
    expect(decoderIssues(example)).toEqual([])
    expect(ajvValidate(example), JSON.stringify(ajvValidate.errors)).toBe(true)
  })
})
