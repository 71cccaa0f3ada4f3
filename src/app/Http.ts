import { type HttpApi, HttpApiBuilder } from "@effect/platform"
import { Layer } from "effect"
import { AuthLive } from "../http/Auth.js"
import { Cors } from "../http/Cors.js"
import { HealthLive, ReadinessChecks } from "../http/Health.js"
import { noPages, type Pages, serve } from "../http/HttpLive.js"
import { readinessChecks } from "./Readiness.js"

/**
 * Serves `api` from the handlers of its groups (`groups`), plus the health group (`/healthz`,
 * `/readyz` for every infrastructure service present, `/metrics`), `/docs` and `pages` (the dashboard).
 */
export const serveApi = <A extends HttpApi.HttpApi.Any, ROut, E, RIn, PE = never, PR = never>(
  api: A,
  groups: Layer.Layer<ROut, E, RIn>,
  pages: Pages<PE, PR> = noPages
) =>
  serve(api, pages).pipe(
    Layer.provide(HttpApiBuilder.api(api as any) as Layer.Layer<HttpApi.Api>),
    Layer.provide(Layer.mergeAll(groups, HealthLive)),
    Layer.provide(ReadinessChecks.layer(readinessChecks)),
    Layer.provideMerge(Layer.merge(AuthLive, Cors.Default))
  )
