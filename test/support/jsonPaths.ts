/** A JSON value, and the paths into one: for tests that mutate events at generated places. */
export type Json = null | boolean | number | string | Array<Json> | { [key: string]: Json }

/** Every path to a value inside `json`. */
export const pathsOf = (json: Json, prefix: Array<string | number> = []): Array<Array<string | number>> => {
  if (json === null || typeof json !== "object") return [prefix]
  const entries: Array<[string | number, Json]> = Array.isArray(json) ? json.map((v, i) => [i, v]) : Object.entries(json)
  return [prefix, ...entries.flatMap(([k, v]) => pathsOf(v, [...prefix, k]))]
}

/** A copy of `json` with the value at `path` replaced, or deleted when `value` is undefined. */
export const setAt = (json: Json, path: ReadonlyArray<string | number>, value: Json | undefined): Json => {
  if (path.length === 0) return value ?? null
  const copy = structuredClone(json) as Record<string | number, Json>
  let node = copy
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>
  const last = path[path.length - 1]!
  if (value === undefined) delete node[last]
  else node[last] = value
  return copy
}
