import { OpenApi } from "@effect/platform"
import { ProductEventsApi } from "../domain/HttpApi.js"

/** The OpenAPI 3.1 document of every HTTP route of every program, from the API's declaration. */
export const renderOpenApi = (): OpenApi.OpenAPISpec => OpenApi.fromApi(ProductEventsApi)
