/** A JSON Schema document or sub-schema, as parsed from JSON. */
export type JsonSchema = { readonly [key: string]: unknown }

export const isSchema = (u: unknown): u is JsonSchema => typeof u === "object" && u !== null && !Array.isArray(u)

const defsPrefix = "#/$defs/"

/** The name of a local `#/$defs/<name>` reference, if `schema` is one. */
export const refName = (schema: JsonSchema): string | undefined =>
  typeof schema.$ref === "string" && schema.$ref.startsWith(defsPrefix) ? schema.$ref.slice(defsPrefix.length) : undefined

export const defsOf = (root: JsonSchema): JsonSchema => (isSchema(root.$defs) ? root.$defs : {})

/**
 * A schema with its `$ref` and single-purpose `allOf` wrappers merged away: what a reader of the
 * contract sees at that position. Keys written next to the reference (e.g. a description) win.
 */
export const resolve = (root: JsonSchema, schema: JsonSchema, seen: ReadonlySet<string> = new Set()): JsonSchema => {
  const { $ref: _ref, allOf, ...own } = schema
  let base: JsonSchema = {}
  const name = refName(schema)
  if (name !== undefined && !seen.has(name)) {
    const target = defsOf(root)[name]
    if (isSchema(target)) base = resolve(root, target, new Set([...seen, name]))
  }
  if (Array.isArray(allOf)) {
    for (const member of allOf) if (isSchema(member)) base = { ...base, ...resolve(root, member, seen) }
  }
  return { ...base, ...own }
}

/** The named definitions of the root union (`anyOf` of `$ref`s): the event types. */
export const unionMembers = (root: JsonSchema): ReadonlyArray<string> => {
  const top = resolve(root, root)
  const members = Array.isArray(top.anyOf) ? top.anyOf : Array.isArray(top.oneOf) ? top.oneOf : []
  return members.filter(isSchema).flatMap((m) => {
    const name = refName(m)
    return name === undefined ? [] : [name]
  })
}

export const propertiesOf = (schema: JsonSchema): JsonSchema => (isSchema(schema.properties) ? schema.properties : {})

export const requiredOf = (schema: JsonSchema): ReadonlyArray<string> =>
  Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === "string") : []

export const typesOf = (schema: JsonSchema): ReadonlyArray<string> | undefined =>
  typeof schema.type === "string"
    ? [schema.type]
    : Array.isArray(schema.type)
      ? schema.type.filter((t): t is string => typeof t === "string")
      : undefined

export const enumOf = (schema: JsonSchema): ReadonlyArray<unknown> | undefined =>
  Array.isArray(schema.enum) ? schema.enum : "const" in schema ? [schema.const] : undefined
