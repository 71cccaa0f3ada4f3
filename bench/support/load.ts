import { Agent, request } from "node:http"

const agent = new Agent({ keepAlive: true, maxSockets: 256 })

export interface Response {
  readonly status: number
  readonly body: string
}

/** One HTTP request on a keep-alive connection. */
export const send = (url: string, method: string, headers: Record<string, string>, body?: string) =>
  new Promise<Response>((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      const parts: Array<Buffer> = []
      res.on("data", (part: Buffer) => parts.push(part))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8") }))
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end(body)
  })

/** `concurrency` loops, each sending `next()` back to back until `durationMs` passed; counts accepted requests. */
export const closedLoop = async (
  durationMs: number,
  concurrency: number,
  next: () => Promise<boolean>
): Promise<{ readonly ok: number; readonly failed: number; readonly ms: number }> => {
  const started = Date.now()
  const until = started + durationMs
  let ok = 0
  let failed = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < until) {
      if (await next().catch(() => false)) ok++
      else failed++
    }
  }))
  return { ok, failed, ms: Date.now() - started }
}
