import { Layer } from "effect"
import { LiveByDefault } from "../app/Infra.js"
import { NotificationServiceLive } from "../app/Notification.js"
import { runProgram } from "../app/Run.js"
import { listen } from "../http/HttpLive.js"

runProgram("notification-service", NotificationServiceLive.pipe(Layer.provide(listen), Layer.provide(LiveByDefault)))
