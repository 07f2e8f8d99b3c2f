"""The reference roster (deploy/reference/engineers.csv) loads cleanly and covers every branch."""
import collections

from aftersales.config import reference_dir
from aftersales.reference import branches
from services.dispatch.domain import roster
from services.dispatch.seed import load_engineers_csv


def test_every_row_loads_and_every_branch_has_engineers_and_a_supervisor():
    rows = list(load_engineers_csv(reference_dir() / "engineers.csv"))
    assert [err for _line, _e, err in rows if err] == []
    everyone = [e for _line, e, _err in rows]
    assert len({e.engineer_id for e in everyone}) == len(everyone)
    by_branch = collections.defaultdict(list)
    for e in everyone:
        by_branch[e.branch].append(e)
    assert set(by_branch) == set(branches())
    for code, people in by_branch.items():
        engineers = [e for e in people if e.role == roster.ENGINEER]
        assert 3 <= len(engineers) <= 4, code
        assert roster.supervisor_of(people) is not None, code
        assert all(e.engineer_id.startswith(f"{code}-") and e.skills for e in engineers)
    assert next(e.name for e in everyone if e.engineer_id == "SH-E001") == "李强"


def test_guangzhou_has_three_concurrent_jobs_of_capacity():
    """The integration tests exhaust GZ with four tickets."""
    gz = [e for _l, e, _err in load_engineers_csv(reference_dir() / "engineers.csv") if e.branch == "GZ"]
    assert sum(e.max_jobs for e in gz if e.role == roster.ENGINEER and e.active) == 3
