import { Layer } from "effect"
import { GatewayApi } from "../domain/HttpApi.js"
import { EventsLive } from "../http/Gateway.js"
import { serveApi } from "./Http.js"
import { GatewayInfra } from "./Infra.js"

/** The ingest gateway on its own: `POST /events` → Kafka. */
export const GatewayLive = serveApi(GatewayApi, EventsLive).pipe(Layer.provide(GatewayInfra))
