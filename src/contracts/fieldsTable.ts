import { enumOf, isSchema, type JsonSchema, propertiesOf, refName, requiredOf, resolve, typesOf } from "./schemaTree.js"

export interface FieldRow {
  readonly path: string
  readonly type: string
  readonly required: boolean
  readonly description: string
  readonly constraints: string
}

const code = (s: string) => `\`${s}\``

const typeOf = (raw: JsonSchema, s: JsonSchema): string => {
  const name = refName(raw) ?? (Array.isArray(raw.allOf) && raw.allOf.length === 1 && isSchema(raw.allOf[0]) ? refName(raw.allOf[0]) : undefined)
  const types = typesOf(s)?.join(" | ") ?? (Array.isArray(s.anyOf) ? "union" : "any")
  return name === undefined ? types : `${types} (${name})`
}

const constraintsOf = (s: JsonSchema): string => {
  const out: Array<string> = []
  const values = enumOf(s)
  if (values !== undefined) {
    out.push(values.length === 1
      ? `= ${code(JSON.stringify(values[0]))}`
      : values.length <= 6 ? `one of ${values.map((v) => code(JSON.stringify(v))).join(", ")}` : `one of ${values.length} values`)
  }
  if (typeof s.format === "string") out.push(`format ${code(s.format)}`)
  if (typeof s.pattern === "string") out.push(`pattern ${code(s.pattern)}`)
  const range = (min: unknown, max: unknown, unit: string) => {
    if (typeof min === "number" && typeof max === "number") out.push(`${min} to ${max}${unit}`)
    else if (typeof min === "number") out.push(`at least ${min}${unit}`)
    else if (typeof max === "number") out.push(`at most ${max}${unit}`)
  }
  range(s.minLength, s.maxLength, " characters")
  range(s.minimum, s.maximum, "")
  return out.join("; ")
}

/** One row per property, depth first, `$ref`s followed: the fields a consumer can rely on. */
export const fieldRows = (root: JsonSchema, schema: JsonSchema): ReadonlyArray<FieldRow> => {
  const rows: Array<FieldRow> = []
  const walk = (prefix: string, raw: JsonSchema, depth: number) => {
    const s = resolve(root, raw)
    const required = requiredOf(s)
    for (const [name, rawProp] of Object.entries(propertiesOf(s))) {
      if (!isSchema(rawProp)) continue
      const prop = resolve(root, rawProp)
      const path = prefix === "" ? name : `${prefix}.${name}`
      rows.push({
        path,
        type: typeOf(rawProp, prop),
        required: required.includes(name),
        description: typeof prop.description === "string" ? prop.description : "",
        constraints: constraintsOf(prop)
      })
      if (depth < 8) walk(path, rawProp, depth + 1)
    }
  }
  walk("", schema, 0)
  return rows
}

const cell = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ")

export const fieldsTable = (rows: ReadonlyArray<FieldRow>): string =>
  [
    "| path | type | required | description | constraints |",
    "|---|---|---|---|---|",
    ...rows.map((r) =>
      `| ${code(r.path)} | ${cell(r.type)} | ${r.required ? "yes" : "no"} | ${cell(r.description)} | ${cell(r.constraints)} |`)
  ].join("\n")
