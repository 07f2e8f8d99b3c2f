"""How the platform finds the console (the ``aftersales.services`` entry points, see
``aftersales/registry.py``). It consumes no events yet (no ``bootstrap.EVENTS``)."""
from aftersales.registry import declare

PLUGIN = declare(__name__, __file__, order=50, cli=True, events=False)
