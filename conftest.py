"""Root conftest: green the standard library before anything else imports it."""
import eventlet

eventlet.monkey_patch()

pytest_plugins = ["tests.support.fixtures"]
