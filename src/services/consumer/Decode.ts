import { Either } from "effect"
import type { ProductEvent } from "../../domain/ProductEvent.js"
import { decodeProductEventFast } from "../../domain/ProductEventFast.js"
import type { LogRecord } from "../EventLog.js"
import { formatParseError } from "../../domain/ParseErrors.js"
import { DecodeError } from "../DeadLetters.js"

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** A record's value as an event: UTF-8 JSON decoded by the contract's schema, synchronously. */
export const decodeRecord = (record: LogRecord): Either.Either<ProductEvent, DecodeError> => {
  let json: unknown
  try {
    json = JSON.parse(utf8.decode(record.value))
  } catch (e) {
    return Either.left(new DecodeError({ message: `not UTF-8 JSON: ${e instanceof Error ? e.message : String(e)}` }))
  }
  const decoded = decodeProductEventFast(json)
  return Either.mapLeft(decoded, (error) => new DecodeError({ message: formatParseError(error) }))
}
