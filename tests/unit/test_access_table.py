from pathlib import Path

from aftersales import access
from aftersales.auth import ROLES

ROOT = Path(__file__).resolve().parents[2]


def test_docs_access_md_is_generated_from_the_role_table():
    assert (ROOT / "docs/access.md").read_text(encoding="utf-8") == access.render()


def test_the_role_table_names_only_known_roles():
    for service, routes in access.ROUTES.items():
        for route, roles in routes.items():
            assert roles == access.PUBLIC or (roles and set(roles) <= set(ROLES)), (service, route)
