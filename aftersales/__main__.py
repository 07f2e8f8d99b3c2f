"""``python -m aftersales …``: green the standard library first, then the CLI."""
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)   # eventlet announces its own deprecation
    import eventlet

eventlet.monkey_patch()

from aftersales.cli import main  # noqa: E402

main()
