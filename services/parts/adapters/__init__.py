from . import warranty  # noqa: F401  (declares ticket_warranty on the ORM metadata)
from . import completed  # noqa: F401,E402  (declares completed_jobs on the ORM metadata)
