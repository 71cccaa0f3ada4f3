import { Layer } from "effect"
import { GatewayLive } from "../app/Gateway.js"
import { LiveByDefault } from "../app/Infra.js"
import { runProgram } from "../app/Run.js"
import { listen } from "../http/HttpLive.js"

runProgram("ingest-gateway", GatewayLive.pipe(Layer.provide(listen), Layer.provide(LiveByDefault)))
