import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { EmbeddedLive } from "../app/Embedded.js"
import { listen } from "../http/HttpLive.js"

NodeRuntime.runMain(Layer.launch(EmbeddedLive.pipe(Layer.provide(listen))))
