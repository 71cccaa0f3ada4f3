import { Option, SchemaAST } from "effect"
import { eventSchemas, eventTypes, type EventType } from "../domain/ProductEvent.js"

/** The examples annotated on each event schema, in order: the first is the canonical one. */
export const eventExamples = (eventType: EventType): ReadonlyArray<unknown> =>
  Option.getOrElse(SchemaAST.getExamplesAnnotation(eventSchemas[eventType].ast), () => [])

export interface ExampleFile {
  readonly eventType: EventType
  readonly path: string
  readonly example: unknown
}

/** `contracts/examples/<EventType>.json` for the first example, `<EventType>.<n>.json` for the n-th after it. */
export const exampleFiles = (): ReadonlyArray<ExampleFile> =>
  eventTypes.flatMap((eventType) =>
    eventExamples(eventType).map((example, i) => ({
      eventType,
      path: `contracts/examples/${eventType}${i === 0 ? "" : `.${i + 1}`}.json`,
      example
    }))
  )
