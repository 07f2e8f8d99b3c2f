"""The parts service's own commands: ``aftersales parts import-catalogue FILE``."""
from aftersales.cli import import_csv


def _catalogue_import(args) -> int:
    from .seed import import_catalogue
    return import_csv(args, "parts", import_catalogue, "part(s)")


def register(sub) -> None:
    pt = sub.add_parser("parts", help="the parts catalogue (parts service)")
    ptsub = pt.add_subparsers(dest="parts_action", required=True)
    pti = ptsub.add_parser("import-catalogue", help="import (upsert by SKU) the parts catalogue "
                           "from a CSV file (UTF-8; columns as in deploy/reference/parts.csv); "
                           "bad rows are reported by line and column")
    pti.add_argument("file")
    pti.add_argument("--dry-run", action="store_true", help="check every row, change nothing")
    pti.set_defaults(func=_catalogue_import)
