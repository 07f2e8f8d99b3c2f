from alembic import context

from aftersales.db import run_alembic_env
from aftersales.outbox import reliability_metadata
from services.intake.adapters.orm import metadata
from services.intake.adapters.statistics import refresh_statistics

run_alembic_env([reliability_metadata, metadata])
# the service migrates at every start: the planner's statistics are refreshed then too
refresh_statistics(context.config.attributes.get("connection_engine"))
