import { Layer } from "effect"
import { AnalyticsServiceLive } from "../app/Analytics.js"
import { LiveByDefault } from "../app/Infra.js"
import { runProgram } from "../app/Run.js"
import { listen } from "../http/HttpLive.js"

runProgram("analytics-service", AnalyticsServiceLive.pipe(Layer.provide(listen), Layer.provide(LiveByDefault)))
