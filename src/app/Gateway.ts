import { Layer } from "effect"
import { Auth } from "../http/Auth.js"
import { gatewayRouter } from "../http/Gateway.js"
import { serveWithHealth } from "./Http.js"
import { GatewayInfra } from "./Infra.js"

/** The ingest gateway on its own: `POST /events` → Kafka. */
export const GatewayLive = serveWithHealth(gatewayRouter).pipe(
  Layer.provide(Auth.Default),
  Layer.provide(GatewayInfra)
)
