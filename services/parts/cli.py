"""The parts service's own commands: ``aftersales parts import-catalogue FILE``."""
from aftersales.cli import add_import_command


def register(sub) -> None:
    add_import_command(sub, "parts", "the parts catalogue (parts service)", "import-catalogue",
                       "import (upsert by SKU) the parts catalogue from a CSV file (UTF-8; "
                       "columns as in deploy/reference/parts.csv); bad rows are reported by "
                       "line and column", "parts", "services.parts.seed:import_catalogue",
                       "part(s)")
