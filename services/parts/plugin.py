"""How the platform finds the parts service (the ``aftersales.services`` entry points, see
``aftersales/registry.py``)."""
from aftersales.registry import declare

PLUGIN = declare(__name__, __file__, order=30, cli=True, events=True)
