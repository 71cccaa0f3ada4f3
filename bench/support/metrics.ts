import { send } from "./load.js"

/**
 * A service's `dynamodb_write_requests_total` from its /metrics, by `<table> <operation>` (summed over
 * the other labels). Fails when /metrics does not answer 200.
 */
export const dynamoWrites = async (baseUrl: string): Promise<Map<string, number>> => {
  const r = await send(`${baseUrl}/metrics`, "GET", {})
  if (r.status !== 200) throw new Error(`GET /metrics answered ${r.status}`)
  const writes = new Map<string, number>()
  for (const [, labels, value] of r.body.matchAll(/^dynamodb_write_requests_total\{([^}]*)\} (\S+)$/gm)) {
    const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(labels!)?.[1] ?? "?"
    const key = `${label("table")} ${label("operation")}`
    writes.set(key, (writes.get(key) ?? 0) + Number(value))
  }
  return writes
}

export const total = (writes: ReadonlyMap<string, number>): number => [...writes.values()].reduce((a, b) => a + b, 0)
