"""Asset CSV import through the CLI, against a real SQLite database."""
import subprocess
import sys
from pathlib import Path

from aftersales.db import make_engine, session_factory
from services.intake.adapters.repository import AssetRepository

ROOT = Path(__file__).resolve().parents[3]

CSV = """serial_no,model,component_category,acceptance_date,manufacturer_term_months,branch,customer,site,project
GZ-EQ-2026-0001,冷水机组 30HXC,equipment,2026-03-01,24,GZ,广州白云冷链有限公司,广州市白云区太和镇,冷库一期
GZ-GJ-2026-0002,钢结构雨棚,main_structure,2026-05-20,,GZ,广州白云冷链有限公司,广州市白云区太和镇,冷库一期
,缺序列号,other,2026-01-01,,GZ,,,
GZ-EQ-2026-0003,水泵,equipment,2026-01-01,,GZ,,,
GZ-XX-2026-0004,未知类别,roof,2026-01-01,,GZ,,,
GZ-XX-2026-0005,日期错误,other,2026-13-01,,GZ,,,
"""


def test_import_reports_bad_rows_by_line_and_keeps_the_good_ones(tmp_path):
    path = tmp_path / "assets.csv"
    path.write_text(CSV, encoding="utf-8-sig")
    db = tmp_path / "intake.db"
    env = {"PATH": "/usr/bin:/bin", "INTAKE_DATABASE_URL": f"sqlite:///{db}",
           "AFTERSALES_VAR_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "aftersales", "assets", "import", str(path)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr        # some rows were bad
    out = run.stdout
    assert "imported 2 asset(s); 4 bad row(s)" in out
    assert "line 4: serial_no: is required" in out
    assert "line 5: manufacturer_term_months: is required for equipment" in out
    assert "line 6: component_category: must be one of" in out
    assert "line 7: acceptance_date: not a date" in out
    engine = make_engine(f"sqlite:///{db}")
    with session_factory(engine)() as s:
        repo = AssetRepository(s)
        assert repo.count() == 2
        assert repo.get("GZ-EQ-2026-0001").customer == "广州白云冷链有限公司"
    engine.dispose()


def test_dry_run_changes_nothing(tmp_path):
    path = tmp_path / "assets.csv"
    path.write_text(CSV.splitlines()[0] + "\n" + CSV.splitlines()[1] + "\n", encoding="utf-8")
    db = tmp_path / "intake.db"
    env = {"PATH": "/usr/bin:/bin", "INTAKE_DATABASE_URL": f"sqlite:///{db}"}
    run = subprocess.run([sys.executable, "-m", "aftersales", "assets", "import", str(path),
                          "--dry-run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "would import 1 asset(s); 0 bad row(s)" in run.stdout
    engine = make_engine(f"sqlite:///{db}")
    with session_factory(engine)() as s:
        assert AssetRepository(s).count() == 0
    engine.dispose()
