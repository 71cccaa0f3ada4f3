import { FetchHttpClient } from "@effect/platform"
import * as OtlpSerialization from "@effect/opentelemetry/OtlpSerialization"
import * as OtlpTracer from "@effect/opentelemetry/OtlpTracer"
import { Config, Duration, Effect, Layer, Option } from "effect"

/**
 * Spans exported over OTLP/HTTP (JSON) when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (its `/v1/traces`),
 * nothing otherwise. `OTEL_SERVICE_NAME` names the process (the program's name by default);
 * `OTEL_BSP_SCHEDULE_DELAY` is the export interval in milliseconds (5000). The variables are
 * OpenTelemetry's own.
 */
export const TracingLive = (program: string) =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const endpoint = yield* Config.option(Config.url("OTEL_EXPORTER_OTLP_ENDPOINT"))
    if (Option.isNone(endpoint)) return Layer.empty
    const serviceName = yield* Config.nonEmptyString("OTEL_SERVICE_NAME").pipe(Config.withDefault(program))
    const interval = yield* Config.integer("OTEL_BSP_SCHEDULE_DELAY").pipe(
      Config.validate({ message: "must be a positive number of milliseconds", validation: (ms) => ms > 0 }),
      Config.withDefault(5000)
    )
    const url = new URL("v1/traces", endpoint.value.href.endsWith("/") ? endpoint.value : `${endpoint.value.href}/`)
    return OtlpTracer.layer({ url: url.href, resource: { serviceName }, exportInterval: Duration.millis(interval) }).pipe(
      Layer.provide(OtlpSerialization.layerJson),
      Layer.provide(FetchHttpClient.layer)
    )
  }))
