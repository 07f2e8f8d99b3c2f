"""Intake's own commands: ``aftersales assets import FILE``."""
from aftersales.cli import import_csv


def _assets_import(args) -> int:
    from .seed import import_assets
    return import_csv(args, "intake", import_assets, "asset(s)")


def register(sub) -> None:
    a = sub.add_parser("assets", help="the asset registry that warranty decisions use (intake)")
    asub = a.add_subparsers(dest="assets_action", required=True)
    ai = asub.add_parser("import", help="import assets from a CSV file (UTF-8; columns as in "
                                        "deploy/reference/assets.csv); bad rows are reported")
    ai.add_argument("file")
    ai.add_argument("--dry-run", action="store_true", help="check every row, change nothing")
    ai.set_defaults(func=_assets_import)
