"""Dispatch's own commands: ``aftersales roster import FILE``."""
from aftersales.cli import import_csv


def _roster_import(args) -> int:
    from .seed import import_roster
    return import_csv(args, "dispatch", import_roster, "engineer(s) and supervisor(s)")


def register(sub) -> None:
    ro = sub.add_parser("roster", help="the engineer roster (dispatch service)")
    rosub = ro.add_subparsers(dest="roster_action", required=True)
    roi = rosub.add_parser("import", help="import (upsert by engineer_id) engineers and supervisors "
                           "from a CSV file (UTF-8; columns as in deploy/reference/engineers.csv, "
                           "plus optional zone, shift, leave; skills may carry levels, fault:3); "
                           "bad rows are reported by line")
    roi.add_argument("file")
    roi.add_argument("--dry-run", action="store_true", help="check every row, change nothing")
    roi.set_defaults(func=_roster_import)
