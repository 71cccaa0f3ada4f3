import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { GatewayLive } from "../app/Gateway.js"
import { LiveByDefault } from "../app/Infra.js"
import { listen } from "../http/HttpLive.js"

NodeRuntime.runMain(Layer.launch(GatewayLive.pipe(Layer.provide(listen), Layer.provide(LiveByDefault))))
