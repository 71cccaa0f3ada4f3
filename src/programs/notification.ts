import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { LiveByDefault } from "../app/Infra.js"
import { NotificationServiceLive } from "../app/Notification.js"
import { listen } from "../http/HttpLive.js"

NodeRuntime.runMain(Layer.launch(NotificationServiceLive.pipe(Layer.provide(listen), Layer.provide(LiveByDefault))))
