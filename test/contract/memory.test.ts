import * as MetricsStoreMemory from "../../src/layers/MetricsStoreMemory.js"
import * as NotificationStoreMemory from "../../src/layers/NotificationStoreMemory.js"
import * as ObjectStoreMemory from "../../src/layers/ObjectStoreMemory.js"
import * as PubSubMemory from "../../src/layers/PubSubMemory.js"
import { metricsStoreContract } from "./MetricsStore.contract.js"
import { notificationStoreContract } from "./NotificationStore.contract.js"
import { objectStoreContract } from "./ObjectStore.contract.js"
import { pubSubContract } from "./PubSub.contract.js"

notificationStoreContract("NotificationStore (memory)", NotificationStoreMemory.layerMemory)
pubSubContract("PubSub (memory)", PubSubMemory.layerMemory)
objectStoreContract("ObjectStore (memory)", ObjectStoreMemory.layerMemory)
metricsStoreContract("MetricsStore (memory)", MetricsStoreMemory.layerMemory)
