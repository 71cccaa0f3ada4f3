import { kafkaLayer } from "../integration/kafka-support.js"
import { eventLogContract } from "./EventLog.contract.js"

// Every test of the suite names its own topics and groups, so runs can share the broker.
eventLogContract("kafka", kafkaLayer())
