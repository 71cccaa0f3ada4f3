import { type Etag, type HttpPlatform, HttpServer } from "@effect/platform"
import { type NodeContext, NodeHttpServer } from "@effect/platform-node"
import { ConfigProvider, Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { createServer } from "node:http"
import { EmbeddedLive } from "../../src/app/Embedded.js"
import * as Listener from "../../src/http/Listener.js"
import { devJwtSecret, signToken } from "../../src/services/Tokens.js"

/**
 * The embedded program on an ephemeral loopback port, for end-to-end tests through HTTP; with
 * `listener`, on the programs' own listener (which serves the SSE stream ahead of the router).
 */
export const startEmbedded = async (config: Record<string, string> = {}, options: { readonly listener?: boolean } = {}) => {
  const server: Layer.Layer<HttpServer.HttpServer | NodeContext.NodeContext | HttpPlatform.HttpPlatform | Etag.Generator, unknown> = options.listener === true
    ? Listener.layer({ port: 0, host: "127.0.0.1" })
    : NodeHttpServer.layer(() => createServer(), { port: 0, host: "127.0.0.1" })
  const runtime = ManagedRuntime.make(
    EmbeddedLive.pipe(
      Layer.provideMerge(server),
      Layer.provide(Layer.setConfigProvider(
        ConfigProvider.fromMap(new Map(Object.entries(config))).pipe(ConfigProvider.orElse(() => ConfigProvider.fromEnv()))
      ))
    )
  )
  const address = await runtime.runPromise(HttpServer.HttpServer.pipe(Effect.map((s) => s.address)))
  if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
  const baseUrl = `http://127.0.0.1:${address.port}`
  return { runtime, baseUrl, dispose: () => runtime.dispose() }
}

export const token = (claims: { sellerId?: string; role?: "seller" | "service" }, expiresIn?: string) =>
  Effect.runPromise(signToken(Redacted.make(devJwtSecret), claims, expiresIn === undefined ? undefined : { expiresIn }))
