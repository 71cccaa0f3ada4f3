import * as EventLogMemory from "../../src/layers/EventLogMemory.js"
import * as MetricsStoreMemory from "../../src/layers/MetricsStoreMemory.js"
import * as NotificationStoreMemory from "../../src/layers/NotificationStoreMemory.js"
import * as ObjectStoreMemory from "../../src/layers/ObjectStoreMemory.js"
import * as PubSubMemory from "../../src/layers/PubSubMemory.js"
import { eventLogContract } from "./EventLog.contract.js"
import { metricsStoreContract } from "./MetricsStore.contract.js"
import { notificationStoreContract } from "./NotificationStore.contract.js"
import { objectStoreContract } from "./ObjectStore.contract.js"
import { pubSubContract } from "./PubSub.contract.js"

/** The contract suites on the in-memory layers (test/integration/layers.test.ts runs them on the live ones). */
notificationStoreContract("NotificationStore (memory)", NotificationStoreMemory.layerMemory)
pubSubContract("PubSub (memory)", PubSubMemory.layerMemory)
objectStoreContract("ObjectStore (memory)", ObjectStoreMemory.layerMemory)
metricsStoreContract("MetricsStore (memory)", MetricsStoreMemory.layerMemory)
// Last: after @effect/vitest's top-level `layer()` (which this suite calls, without test services)
// the shared `it.layer` nests in that layer, so suites registered later would lose their TestClock.
eventLogContract("memory", EventLogMemory.layerMemory())
