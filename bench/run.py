"""`make bench`: the suite of issue 16 (bench/suite.py; arguments are passed on, see
`python bench/suite.py --help`). The outbox relay benchmark stays its own script:
`python bench/outbox_relay.py`."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.suite import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
