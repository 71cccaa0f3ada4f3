import { Config, Console, Effect, Layer } from "effect"
import * as Listener from "../http/Listener.js"

/**
 * What `npm start` prints once, for the person who started it (on stdout, not as a log line): where
 * the API is, its reference, the seller dashboard, and the first commands to try.
 */
export const StartBanner = Layer.effectDiscard(Effect.gen(function*() {
  const { host, port } = yield* Listener.address
  const infra = yield* Config.string("INFRA").pipe(Config.withDefault("memory"))
  const base = `http://${host.includes(":") ? `[${host}]` : host}:${port}`
  yield* Console.log(
    [
      `product-events on ${base} (${infra === "memory" ? "in memory: nothing is kept after it stops" : `INFRA=${infra}`})`,
      `  API reference:  ${base}/docs`,
      `  dashboard:      ${base}/dashboard (paste a seller token, or open ${base}/dashboard#token=<token>)`,
      `  a seller token: npx product-events token s1`,
      `  s1's stream:    curl -N -H "Authorization: Bearer $(npx product-events token s1)" ${base}/sellers/s1/notifications/stream`,
      `  publish:        the README's "Try it", or npm run demo for simulated traffic`,
      `  metrics:        ${base}/metrics`
    ].join("\n")
  )
}))
