"""``aftersales roster import``: good rows upserted, bad rows reported by line, --dry-run,
exit codes (0 clean, 1 bad rows, 2 unusable file)."""
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[3]
HEADER = "engineer_id,name,branch,role,skills,active,max_jobs,zone,shift,leave\n"


def run(tmp_path, content, *extra):
    f = tmp_path / "roster.csv"
    f.write_text(content, encoding="utf-8")
    db = tmp_path / "dispatch.db"
    env = {"PATH": "/usr/bin:/bin", "DISPATCH_DATABASE_URL": f"sqlite:///{db}",
           "AFTERSALES_VAR_DIR": str(tmp_path)}
    p = subprocess.run([sys.executable, "-m", "aftersales", "roster", "import", str(f), *extra],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    return p, db


def names(db):
    with create_engine(f"sqlite:///{db}").connect() as c:
        return dict(c.execute(text("select engineer_id, name from engineers")).all())


def test_good_rows_are_imported_and_bad_ones_reported(tmp_path):
    p, db = run(tmp_path, HEADER
                + "SH-E101,赵敏,SH,engineer,fault:4;main_structure,true,3,浦东,mon-fri 08:30-17:30,2026-12-01\n"
                + "SH-E102,钱多,XX,engineer,fault,true,3,,,\n"
                + "SH-E103,孙悟,SH,engineer,fault:9,true,3,,,\n"
                + "SH-E101,重复,SH,engineer,fault,true,3,,,\n"
                + "SH-S101,周主管,SH,supervisor,,true,0,,,\n")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "imported 2 engineer(s) and supervisor(s); 3 bad row(s)" in p.stdout
    assert "line 3: unknown branch 'XX'" in p.stdout and "line 4: skills" in p.stdout
    assert "line 5: duplicate engineer_id SH-E101" in p.stdout
    assert names(db) == {"SH-E101": "赵敏", "SH-S101": "周主管"}


def test_dry_run_changes_nothing_and_a_clean_file_exits_0(tmp_path):
    p, db = run(tmp_path, HEADER + "SH-E101,赵敏,SH,engineer,fault,true,3,,,\n", "--dry-run")
    assert p.returncode == 0 and "would import 1" in p.stdout
    assert names(db) == {}


@pytest.mark.parametrize("content", ["id,who\nSH-E1,甲\n"])
def test_a_file_without_the_columns_is_refused(tmp_path, content):
    p, _ = run(tmp_path, content)
    assert p.returncode == 2 and "missing column(s) engineer_id, name, branch" in p.stderr
