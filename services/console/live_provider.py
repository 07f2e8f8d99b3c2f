"""The nameko side of live updates: one hub and one bus consumer per console process,
started with the container and stopped with it (open streams end; the consumer's queue goes
with its connection). See ``adapters/live_bus.py`` and ``service_layer/live.py``."""
from __future__ import annotations

import os

from nameko.extensions import DependencyProvider
from prometheus_client import Gauge

from .adapters.live_bus import LiveConsumer
from .domain.live import HEARTBEAT_S
from .service_layer.live import Hub

live_streams = Gauge("aftersales_console_live_streams",
                     "Open /console/live streams of this console process.")
live_bus_connected = Gauge("aftersales_console_live_bus_connected",
                           "1 while this console process consumes the bus for live updates.")


def heartbeat_seconds(env=os.environ) -> float:
    """``CONSOLE_LIVE_HEARTBEAT_S`` (15): how often an idle stream gets a comment line, which
    is also how soon a stream whose client went away is noticed and ended."""
    try:
        value = float(env.get("CONSOLE_LIVE_HEARTBEAT_S", HEARTBEAT_S))
    except ValueError:
        return HEARTBEAT_S
    return value if 0.1 <= value <= 300 else HEARTBEAT_S


class LiveUpdates(DependencyProvider):
    def setup(self):
        self.hub = Hub()
        self.consumer = LiveConsumer(self.container.config["AMQP_URI"], self.hub.publish)
        self.heartbeat = heartbeat_seconds()
        live_streams.set_function(self.hub.subscribers)
        live_bus_connected.set_function(lambda: 1 if self.consumer.connected.is_set() else 0)

    def start(self):
        self.container.spawn_managed_thread(self.consumer.run, identifier="console.live")

    def stop(self):
        self.consumer.stop()
        self.hub.close()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self
