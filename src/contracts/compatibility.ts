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
 * Which readers a change must not break, as a schema registry names it:
 * - BACKWARD: a consumer built against `current` reads every event written under `released`;
 * - FORWARD: a consumer built against `released` reads every event written under `current`;
 * - FULL: both.
 */
export type CompatibilityMode = "BACKWARD" | "FORWARD" | "FULL"

type Direction = "backward" | "forward"

/**
 * The changes from `released` to `current` that break the readers `mode` protects. Each problem names
 * the path, starting at the event type (`ProductCreated.data.product.price`), and says what changed
 * from the old version to the new. A shared definition (`$defs/StockUnits`) is compared once per
 * direction, and its problems reported at the first path that reaches it. A new event type passes
 * either way: consumers skip types they do not subscribe to by the `eventType` header, undecoded.
 */
export const compatibilityProblems = (
  released: JsonSchema,
  current: JsonSchema,
  mode: CompatibilityMode = "BACKWARD"
): ReadonlyArray<string> => {
  const backward = mode === "FORWARD" ? [] : directionProblems("backward", released, current)
  const forward = mode === "BACKWARD" ? [] : directionProblems("forward", released, current)
  return [...new Set([...backward, ...forward])]
}

/**
 * Compares what a writer may write with what a reader accepts: a problem wherever the reader is
 * stricter. Backward, the writer is `released` and the reader `current`; forward, the other way round.
 */
const directionProblems = (direction: Direction, released: JsonSchema, current: JsonSchema): ReadonlyArray<string> => {
  const writerRoot = direction === "backward" ? released : current
  const readerRoot = direction === "backward" ? current : released
  const problems: Array<string> = []
  const compared = new Set<string>()
  const report = (path: string, message: string) => problems.push(`${path}: ${message}`)
  /** Words for a constraint the reader has and the writer lacks: the new version added it, or removed it. */
  const addedOrRemoved = direction === "backward" ? "added" : "removed"
  const oldNew = <A>(writer: A, reader: A): readonly [A, A] => (direction === "backward" ? [writer, reader] : [reader, writer])

  const show = (u: unknown) => JSON.stringify(u)

  const compareBound = (path: string, key: string, w: JsonSchema, r: JsonSchema, tighter: (wv: number, rv: number) => boolean) => {
    const wv = w[key]
    const rv = r[key]
    if (typeof rv !== "number") return
    if (typeof wv !== "number") report(path, `${key} ${show(rv)} ${addedOrRemoved}`)
    else if (tighter(wv, rv)) {
      const [before, after] = oldNew(wv, rv)
      report(path, `${key} ${after > before ? "raised" : "lowered"} from ${before} to ${after}`)
    }
  }

  const compareText = (path: string, key: "pattern" | "format", w: JsonSchema, r: JsonSchema) => {
    const rv = r[key]
    if (typeof rv !== "string" || rv === w[key]) return
    if (typeof w[key] !== "string") report(path, `${key} ${show(rv)} ${addedOrRemoved}`)
    else {
      const [before, after] = oldNew(w[key], rv)
      report(path, `${key} changed from ${show(before)} to ${show(after)}`)
    }
  }

  const compare = (path: string, rawW: JsonSchema, rawR: JsonSchema): void => {
    const wrappedW = wrappedRef(rawW)
    const wrappedR = wrappedRef(rawR)
    if (wrappedW !== undefined && wrappedR !== undefined) {
      compare(path, wrappedW.ref, wrappedR.ref)
      compare(path, wrappedW.own, wrappedR.own)
      return
    }
    const wName = refName(rawW)
    const rName = refName(rawR)
    if (wName !== undefined && rName !== undefined) {
      const key = `${wName}->${rName}`
      if (compared.has(key)) return
      compared.add(key)
    }
    const w = resolve(writerRoot, rawW)
    const r = resolve(readerRoot, rawR)

    const wTypes = typesOf(w)
    const rTypes = typesOf(r)
    if (rTypes !== undefined) {
      const accepts = (t: string) => rTypes.includes(t) || (t === "integer" && rTypes.includes("number"))
      if (wTypes === undefined) {
        report(path, direction === "backward" ? `type narrowed to ${show(rTypes)}` : `type no longer restricted to ${show(rTypes)}`)
      } else if (!wTypes.every(accepts)) {
        const [before, after] = oldNew(wTypes, rTypes)
        report(path, `type ${direction === "backward" ? "narrowed" : "widened"} from ${show(before)} to ${show(after)}`)
      }
    }

    const wEnum = enumOf(w)
    const rEnum = enumOf(r)
    if (rEnum !== undefined) {
      if (wEnum === undefined) {
        report(path, direction === "backward" ? `restricted to the values ${show(rEnum)}` : `no longer restricted to the values ${show(rEnum)}`)
      } else {
        const unread = wEnum.filter((v) => !rEnum.some((x) => show(x) === show(v)))
        if (unread.length > 0) report(path, `enum values ${direction === "backward" ? "removed" : "added"}: ${unread.map(show).join(", ")}`)
      }
    }

    compareBound(path, "minimum", w, r, raised)
    compareBound(path, "exclusiveMinimum", w, r, raised)
    compareBound(path, "minLength", w, r, raised)
    compareBound(path, "minItems", w, r, raised)
    compareBound(path, "minProperties", w, r, raised)
    compareBound(path, "maximum", w, r, lowered)
    compareBound(path, "exclusiveMaximum", w, r, lowered)
    compareBound(path, "maxLength", w, r, lowered)
    compareBound(path, "maxItems", w, r, lowered)
    compareBound(path, "maxProperties", w, r, lowered)
    compareText(path, "pattern", w, r)
    compareText(path, "format", w, r)
    if (r.additionalProperties === false && w.additionalProperties !== false) {
      report(path, direction === "backward" ? "no longer allows additional properties" : "now allows additional properties")
    }

    const wProps = propertiesOf(w)
    const rProps = propertiesOf(r)
    const wRequired = requiredOf(w)
    for (const [name, wProp] of Object.entries(wProps)) {
      const rProp = rProps[name]
      if (isSchema(rProp)) {
        if (isSchema(wProp)) compare(`${path}.${name}`, wProp, rProp)
      } else if (direction === "backward") {
        report(`${path}.${name}`, "property removed (or renamed)")
      } else if (r.additionalProperties === false) {
        // Otherwise an old reader ignores a property it does not know.
        report(`${path}.${name}`, "property added where the old version forbids additional properties")
      }
    }
    for (const name of requiredOf(r)) {
      if (wRequired.includes(name)) continue
      report(
        `${path}.${name}`,
        direction === "backward"
          ? name in wProps ? "optional property became required" : "new required property"
          : name in wProps ? "required property became optional" : "required property removed (or renamed)"
      )
    }

    if (isSchema(w.items) && isSchema(r.items)) compare(`${path}[]`, w.items, r.items)
    compareUnion(path, w, r)
  }

  const compareUnion = (path: string, w: JsonSchema, r: JsonSchema) => {
    const wMembers = Array.isArray(w.anyOf) ? w.anyOf.filter(isSchema) : Array.isArray(w.oneOf) ? w.oneOf.filter(isSchema) : []
    const rMembers = Array.isArray(r.anyOf) ? r.anyOf.filter(isSchema) : Array.isArray(r.oneOf) ? r.oneOf.filter(isSchema) : []
    if (wMembers.length === 0) {
      if (rMembers.length > 0) report(path, direction === "backward" ? "became a union" : "is no longer a union")
      return
    }
    wMembers.forEach((wm, i) => {
      const name = refName(wm)
      const rm = name === undefined ? rMembers[i] : rMembers.find((m) => refName(m) === name)
      if (rm === undefined) report(`${path}|${name ?? i}`, `union member ${direction === "backward" ? "removed" : "added"}`)
      else compare(`${path}|${name ?? i}`, wm, rm)
    })
  }

  const wEvents = unionMembers(writerRoot)
  const rEvents = unionMembers(readerRoot)
  if (wEvents.length === 0) {
    compare("(root)", writerRoot, readerRoot)
    return problems
  }
  for (const event of wEvents) {
    if (rEvents.includes(event)) compare(event, { $ref: `#/$defs/${event}` }, { $ref: `#/$defs/${event}` })
    else if (direction === "backward") report(event, "event type removed")
  }
  return problems
}

/** Whether the reader's bound is tighter than the writer's. */
const raised = (writer: number, reader: number) => reader > writer
const lowered = (writer: number, reader: number) => reader < writer

/** `{ allOf: [{ $ref }], ...own }`, the shape Effect gives an annotated reference. */
const wrappedRef = (s: JsonSchema): { readonly ref: JsonSchema; readonly own: JsonSchema } | undefined => {
  const { allOf, ...own } = s
  if (!Array.isArray(allOf) || allOf.length !== 1) return undefined
  const ref = allOf[0]
  return isSchema(ref) && refName(ref) !== undefined ? { ref, own } : undefined
}
