import { minEpochMillis, maxEpochMillis } from "../domain/Timestamp.js"

export const evolutionSection = (): ReadonlyArray<string> => [
  "## Evolution rules",
  "",
  "The contract evolves BACKWARD-compatibly, as a schema registry would enforce it: a consumer built against",
  "the last release must be able to read every event a producer of the new version writes.",
  "",
  "Compatible (allowed in a minor release):",
  "",
  "- a new optional property (readers ignore unknown properties);",
  "- a new event type (consumers skip types they do not subscribe to, by the `eventType` header);",
  "- a widened bound: a lower minimum, a higher maximum, a shorter minLength, a longer maxLength, an added",
  "  enum value, a removed pattern or format, an `integer` that becomes a `number`;",
  "- a new or better description or example.",
  "",
  "Incompatible (needs a new topic or a coordinated major release):",
  "",
  "- removing or renaming a property (a rename is a removal plus an addition);",
  "- a new required property, or an optional property that becomes required;",
  "- narrowing a type: a type removed from the allowed set, enum values removed, minimum or minLength raised,",
  "  maximum or maxLength lowered, a pattern added or changed (any change to a pattern counts as tightening),",
  "  a format added or changed, additional properties forbidden;",
  "- removing an event type.",
  "",
  "Enforcement: `contracts/released/event-contracts.json` is the JSON Schema of the last release.",
  "`npm run contracts:check` compares the schema generated from `src/domain/` with it, structurally",
  "(following `$ref`s into `$defs`), and fails with one line per problem naming the event and path, e.g.",
  "`ProductCreated.data.product.name: property removed (or renamed)`. To release, copy the generated",
  "`contracts/event-contracts.json` over the released one once the change is published."
]

export const unexpressibleChecksSection = (): ReadonlyArray<string> => [
  "## Checks JSON Schema cannot express",
  "",
  "`event-contracts.json` checks shapes, types, patterns and bounds. The Effect Schema decoder (`src/domain/`)",
  "also enforces these rules; a JSON-Schema-only validator accepts events that break them:",
  "",
  "- **eventId consistency**: `eventId` must equal",
  "  `{data.sellerId}-{data.productId}-{eventType}-{epochMillis of timestamp}`. JSON Schema only checks its shape",
  "  (`^[A-Za-z0-9_]{1,64}-[A-Za-z0-9_]{1,64}-<eventType>-[0-9]{13}$`).",
  "- **timestamp is a real instant in range**: it must round-trip through `Date` unchanged (no 2026-02-30, no",
  `  24:00:00) and its Unix time must be from ${minEpochMillis} to ${maxEpochMillis} ms (13 digits). JSON Schema`,
  "  checks the pattern and `format: date-time` only.",
  "- **ProductUpdated changes**: `data.changes` names at least one field; for each changed field `before` differs",
  "  from `after` (money compares amount and currency); and `after` equals the same field of `data.product`.",
  "- **LowStockWarning**: `data.stock` is at most `data.lowStockThreshold`."
]
