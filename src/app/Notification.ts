import { Effect, Layer } from "effect"
import { notificationService } from "../domain/Consumers.js"
import * as ConsumerEngine from "../services/ConsumerEngine.js"
import { NotificationService } from "../services/NotificationService.js"

/** notification-service's consumer: every subscribed event becomes a stored, published notification. */
export const NotificationConsumer = Layer.unwrapEffect(
  Effect.map(NotificationService, (service) =>
    ConsumerEngine.layer({ contract: notificationService, handle: (event) => service.handle(event) }))
).pipe(Layer.provide(NotificationService.Default))
