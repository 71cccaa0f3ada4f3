import { Layer } from "effect"
import { DemoTraffic } from "../app/Demo.js"
import { EmbeddedLive } from "../app/Embedded.js"
import { runProgram } from "../app/Run.js"
import { listen } from "../http/HttpLive.js"

runProgram("product-events", Layer.merge(EmbeddedLive.pipe(Layer.provide(listen)), DemoTraffic))
