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

/**
 * An open-loop load: `perSecond` items for `durationMs`, in 100 ms ticks, each tick's items posted in
 * batches of at most 100 (`post`, not awaited, so a slow server does not slow the offer); `onTick` runs
 * after each tick's posts. Resolves once every post has settled.
 */
export const steadyLoad = async <A>(
  perSecond: number,
  durationMs: number,
  make: () => A,
  post: (batch: Array<A>) => Promise<unknown>,
  onTick: (tick: number) => void = () => {}
): Promise<void> => {
  const startedAt = Date.now()
  const inflight: Array<Promise<unknown>> = []
  let due = 0
  for (let tick = 0; Date.now() - startedAt < durationMs; tick++) {
    due += perSecond / 10
    const items = Array.from({ length: Math.floor(due) }, make)
    due -= items.length
    for (let i = 0; i < items.length; i += 100) inflight.push(post(items.slice(i, i + 100)))
    onTick(tick)
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + (tick + 1) * 100 - Date.now())))
  }
  await Promise.all(inflight)
}
