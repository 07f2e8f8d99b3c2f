from . import warranty  # noqa: F401  (declares ticket_warranty on the ORM metadata)
