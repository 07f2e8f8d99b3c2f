"""The nameko side of live updates: one hub and one bus consumer per console process,
started with the container and stopped with it (open streams end; the consumer's queue goes
with its connection). See ``adapters/live_bus.py`` and ``service_layer/live.py``."""
from __future__ import annotations

from nameko.extensions import DependencyProvider

from .adapters.live_bus import LiveConsumer
from .service_layer.live import Hub


class LiveUpdates(DependencyProvider):
    def setup(self):
        self.hub = Hub()
        self.consumer = LiveConsumer(self.container.config["AMQP_URI"], self.hub.publish)

    def start(self):
        self.container.spawn_managed_thread(self.consumer.run, identifier="console.live")

    def stop(self):
        self.consumer.stop()
        self.hub.close()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self
