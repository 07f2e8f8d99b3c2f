"""``python -m aftersales …``: green the standard library first, then the CLI."""
import eventlet

eventlet.monkey_patch()

from aftersales.cli import main  # noqa: E402

main()
