from aftersales.db import run_alembic_env
from aftersales.outbox import reliability_metadata
from services.console.adapters.orm import metadata

run_alembic_env([reliability_metadata, metadata])
