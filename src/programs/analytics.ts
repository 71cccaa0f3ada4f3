import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { AnalyticsServiceLive } from "../app/Analytics.js"
import { LiveByDefault } from "../app/Infra.js"
import { listen } from "../http/HttpLive.js"

NodeRuntime.runMain(Layer.launch(AnalyticsServiceLive.pipe(Layer.provide(listen), Layer.provide(LiveByDefault))))
