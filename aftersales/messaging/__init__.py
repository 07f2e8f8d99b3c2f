"""Broker side of the reliability core: topology, consumer entrypoint, outbox relay, parking."""
