import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { DemoTraffic } from "../app/Demo.js"
import { EmbeddedLive } from "../app/Embedded.js"
import { listen } from "../http/HttpLive.js"

NodeRuntime.runMain(Layer.launch(Layer.merge(EmbeddedLive.pipe(Layer.provide(listen)), DemoTraffic)))
