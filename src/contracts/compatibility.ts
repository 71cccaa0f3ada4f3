import {
  enumOf,
  isSchema,
  type JsonSchema,
  propertiesOf,
  refName,
  requiredOf,
  resolve,
  typesOf,
  unionMembers
} from "./schemaTree.js"

export type { JsonSchema } from "./schemaTree.js"

/**
 * BACKWARD compatibility, as a schema registry checks it: can a consumer built against `released`
 * read every event a producer of `current` may write? Each problem names the path, starting at the
 * event type (`ProductCreated.data.product.price`). A shared definition (`$defs/StockUnits`) is
 * compared once, and its problems reported at the first path that reaches it.
 */
export const compatibilityProblems = (released: JsonSchema, current: JsonSchema): ReadonlyArray<string> => {
  const problems: Array<string> = []
  const compared = new Set<string>()
  const report = (path: string, message: string) => problems.push(`${path}: ${message}`)

  const show = (u: unknown) => JSON.stringify(u)

  const compareBound = (path: string, key: string, r: JsonSchema, c: JsonSchema, tighter: (rv: number, cv: number) => boolean) => {
    const rv = r[key]
    const cv = c[key]
    if (typeof cv !== "number") return
    if (typeof rv !== "number") report(path, `${key} ${show(cv)} added`)
    else if (tighter(rv, cv)) report(path, `${key} ${tighter === raised ? "raised" : "lowered"} from ${rv} to ${cv}`)
  }

  const compare = (path: string, rawR: JsonSchema, rawC: JsonSchema): void => {
    const wrappedR = wrappedRef(rawR)
    const wrappedC = wrappedRef(rawC)
    if (wrappedR !== undefined && wrappedC !== undefined) {
      compare(path, wrappedR.ref, wrappedC.ref)
      compare(path, wrappedR.own, wrappedC.own)
      return
    }
    const rName = refName(rawR)
    const cName = refName(rawC)
    if (rName !== undefined && cName !== undefined) {
      const key = `${rName}->${cName}`
      if (compared.has(key)) return
      compared.add(key)
    }
    const r = resolve(released, rawR)
    const c = resolve(current, rawC)

    const rTypes = typesOf(r)
    const cTypes = typesOf(c)
    if (cTypes !== undefined) {
      const accepts = (t: string) => cTypes.includes(t) || (t === "integer" && cTypes.includes("number"))
      if (rTypes === undefined) report(path, `type narrowed to ${show(cTypes)}`)
      else if (!rTypes.every(accepts)) report(path, `type narrowed from ${show(rTypes)} to ${show(cTypes)}`)
    }

    const rEnum = enumOf(r)
    const cEnum = enumOf(c)
    if (cEnum !== undefined) {
      if (rEnum === undefined) report(path, `restricted to the values ${show(cEnum)}`)
      else {
        const removed = rEnum.filter((v) => !cEnum.some((w) => show(w) === show(v)))
        if (removed.length > 0) report(path, `enum values removed: ${removed.map(show).join(", ")}`)
      }
    }

    compareBound(path, "minimum", r, c, raised)
    compareBound(path, "exclusiveMinimum", r, c, raised)
    compareBound(path, "minLength", r, c, raised)
    compareBound(path, "minItems", r, c, raised)
    compareBound(path, "minProperties", r, c, raised)
    compareBound(path, "maximum", r, c, lowered)
    compareBound(path, "exclusiveMaximum", r, c, lowered)
    compareBound(path, "maxLength", r, c, lowered)
    compareBound(path, "maxItems", r, c, lowered)
    compareBound(path, "maxProperties", r, c, lowered)

    if (typeof c.pattern === "string" && c.pattern !== r.pattern) {
      report(path, typeof r.pattern === "string"
        ? `pattern changed from ${show(r.pattern)} to ${show(c.pattern)}`
        : `pattern ${show(c.pattern)} added`)
    }
    if (typeof c.format === "string" && c.format !== r.format) {
      report(path, typeof r.format === "string" ? `format changed from ${show(r.format)} to ${show(c.format)}` : `format ${show(c.format)} added`)
    }
    if (c.additionalProperties === false && r.additionalProperties !== false) {
      report(path, "no longer allows additional properties")
    }

    const rProps = propertiesOf(r)
    const cProps = propertiesOf(c)
    const rRequired = requiredOf(r)
    for (const [name, rProp] of Object.entries(rProps)) {
      const cProp = cProps[name]
      if (!isSchema(cProp)) report(`${path}.${name}`, "property removed (or renamed)")
      else if (isSchema(rProp)) compare(`${path}.${name}`, rProp, cProp)
    }
    for (const name of requiredOf(c)) {
      if (rRequired.includes(name)) continue
      report(`${path}.${name}`, name in rProps ? "optional property became required" : "new required property")
    }

    if (isSchema(r.items) && isSchema(c.items)) compare(`${path}[]`, r.items, c.items)
    compareUnion(path, r, c)
  }

  const compareUnion = (path: string, r: JsonSchema, c: JsonSchema) => {
    const rMembers = Array.isArray(r.anyOf) ? r.anyOf.filter(isSchema) : Array.isArray(r.oneOf) ? r.oneOf.filter(isSchema) : []
    const cMembers = Array.isArray(c.anyOf) ? c.anyOf.filter(isSchema) : Array.isArray(c.oneOf) ? c.oneOf.filter(isSchema) : []
    if (rMembers.length === 0) {
      if (cMembers.length > 0) report(path, "became a union")
      return
    }
    rMembers.forEach((rm, i) => {
      const name = refName(rm)
      const cm = name === undefined ? cMembers[i] : cMembers.find((m) => refName(m) === name)
      if (cm === undefined) report(`${path}|${name ?? i}`, "union member removed")
      else compare(`${path}|${name ?? i}`, rm, cm)
    })
  }

  const rEvents = unionMembers(released)
  const cEvents = unionMembers(current)
  if (rEvents.length === 0) {
    compare("(root)", released, current)
    return problems
  }
  for (const event of rEvents) {
    if (!cEvents.includes(event)) report(event, "event type removed")
    else compare(event, { $ref: `#/$defs/${event}` }, { $ref: `#/$defs/${event}` })
  }
  return problems
}

const raised = (released: number, current: number) => current > released
const lowered = (released: number, current: number) => current < released

/** `{ allOf: [{ $ref }], ...own }`, the shape Effect gives an annotated reference. */
const wrappedRef = (s: JsonSchema): { readonly ref: JsonSchema; readonly own: JsonSchema } | undefined => {
  const { allOf, ...own } = s
  if (!Array.isArray(allOf) || allOf.length !== 1) return undefined
  const ref = allOf[0]
  return isSchema(ref) && refName(ref) !== undefined ? { ref, own } : undefined
}
