import { Layer } from "effect"
import { EmbeddedLive } from "../app/Embedded.js"
import { runProgram } from "../app/Run.js"
import { listen } from "../http/HttpLive.js"

runProgram("product-events", EmbeddedLive.pipe(Layer.provide(listen)))
