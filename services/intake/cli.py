"""Intake's own commands: ``aftersales assets import FILE``."""
from aftersales.cli import add_import_command


def register(sub) -> None:
    add_import_command(sub, "assets", "the asset registry that warranty decisions use (intake)",
                       "import", "import assets from a CSV file (UTF-8; columns as in "
                       "deploy/reference/assets.csv); bad rows are reported",
                       "intake", "services.intake.seed:import_assets", "asset(s)")
