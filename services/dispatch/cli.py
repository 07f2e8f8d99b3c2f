"""Dispatch's own commands: ``aftersales roster import FILE``."""
from aftersales.cli import add_import_command


def register(sub) -> None:
    add_import_command(sub, "roster", "the engineer roster (dispatch service)", "import",
                       "import (upsert by engineer_id) engineers and supervisors from a CSV "
                       "file (UTF-8; columns as in deploy/reference/engineers.csv, plus optional "
                       "zone, shift, leave; skills may carry levels, fault:3); bad rows are "
                       "reported by line", "dispatch", "services.dispatch.seed:import_roster",
                       "engineer(s) and supervisor(s)")
