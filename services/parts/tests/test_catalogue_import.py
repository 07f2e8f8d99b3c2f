"""Catalogue CSV import through the CLI (`aftersales parts import-catalogue`), against a real
SQLite database: progress, bad rows by line and column, --dry-run, upsert by SKU."""
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from aftersales.db import make_engine, session_factory
from services.parts.adapters.repository import CatalogueRepository
from services.parts.seed import import_catalogue

ROOT = Path(__file__).resolve().parents[3]

CSV = """sku,name,unit,cost_price,price,compatible_models,lead_time_days,reorder_point
DQ-KG-DZ47,小型断路器 DZ47-63 C16 1P,个,12.50,22.00,照明配电箱;配电柜 GGD-2,5,20
GJ-CL-Z200,Z型钢檩条 Z200×70×20×2.5,米,42.00,61.00,钢结构厂房主体,,
,缺SKU,个,1,2,,,
DQ-XX-0001,价格错误,个,abc,-5,,,
DQ-XX-0002,,个,1.005,2,,x,
DQ-KG-DZ47,重复,个,1,2,,,
GJ-XX 0003,空格SKU,个,1,2,,,
"""


def run_cli(tmp_path, *args):
    env = {"PATH": "/usr/bin:/bin", "PARTS_DATABASE_URL": f"sqlite:///{tmp_path / 'parts.db'}",
           "AFTERSALES_VAR_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "aftersales", "parts", "import-catalogue", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def catalogue(tmp_path) -> dict:
    engine = make_engine(f"sqlite:///{tmp_path / 'parts.db'}")
    with session_factory(engine)() as s:
        parts = {p.sku: p for p in CatalogueRepository(s).all()}
    engine.dispose()
    return parts


def test_import_reports_bad_rows_by_line_and_column_and_keeps_the_good_ones(tmp_path):
    path = tmp_path / "parts.csv"
    path.write_text(CSV, encoding="utf-8-sig")
    run = run_cli(tmp_path, str(path))
    assert run.returncode == 1, run.stderr                  # some rows were bad
    out = run.stdout
    assert "7 rows read: 2 imported, 5 bad" in out          # progress
    assert "imported 2 part(s); 5 bad row(s)" in out
    assert "line 4, column sku: is required" in out
    assert "line 5, column cost_price: is not a number: 'abc'" in out
    assert "line 5, column price: must be zero or more; got '-5'" in out
    assert "line 6, column name: is required" in out
    assert "line 6, column cost_price: has more than two decimals: '1.005'" in out
    assert "line 6, column lead_time_days: must be a whole number" in out
    assert "line 7, column sku: DQ-KG-DZ47 is already on line 2" in out
    assert "line 8, column sku: may hold letters, digits" in out
    parts = catalogue(tmp_path)
    assert sorted(parts) == ["DQ-KG-DZ47", "GJ-CL-Z200"]
    p = parts["DQ-KG-DZ47"]
    assert (p.name, p.cost_price, p.price, p.compatible_models, p.lead_time_days,
            p.reorder_point) == ("小型断路器 DZ47-63 C16 1P", Decimal("12.50"), Decimal("22.00"),
                                 ("照明配电箱", "配电柜 GGD-2"), 5, 20)
    assert (parts["GJ-CL-Z200"].lead_time_days, parts["GJ-CL-Z200"].reorder_point) == (14, None)

    # a second import updates by SKU
    path.write_text(CSV.splitlines()[0] + "\nDQ-KG-DZ47,小型断路器 DZ47-63 C16 1P,个,13.00,23.00,,6,\n",
                    encoding="utf-8")
    assert run_cli(tmp_path, str(path)).returncode == 0
    again = catalogue(tmp_path)["DQ-KG-DZ47"]
    assert (again.cost_price, again.lead_time_days, again.compatible_models) == \
        (Decimal("13.00"), 6, ())


def test_dry_run_changes_nothing_and_a_missing_column_is_refused(tmp_path):
    path = tmp_path / "parts.csv"
    path.write_text("\n".join(CSV.splitlines()[:3]) + "\n", encoding="utf-8")
    run = run_cli(tmp_path, str(path), "--dry-run")
    assert run.returncode == 0 and "would import 2 part(s); 0 bad row(s)" in run.stdout
    assert catalogue(tmp_path) == {}
    path.write_text("sku,name,unit,price\nA,B,个,1\n", encoding="utf-8")
    run = run_cli(tmp_path, str(path))
    assert run.returncode == 2 and "missing column(s) cost_price" in run.stderr
    assert run_cli(tmp_path, str(tmp_path / "nope.csv")).returncode == 2


@pytest.mark.parametrize("every", [1, 3])
def test_progress_is_reported_as_rows_are_read(tmp_path, every):
    path = tmp_path / "parts.csv"
    path.write_text(CSV, encoding="utf-8")
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    from aftersales.db import migrate
    from aftersales.registry import migrations_dir
    migrate(engine, migrations_dir("parts"))
    seen = []
    with session_factory(engine)() as s:
        report = import_catalogue(s, path, progress=lambda n, ok, bad: seen.append((n, ok, bad)),
                                  every=every)
    engine.dispose()
    assert report["rows"] == 7 and report["imported"] == 2 and report["bad_rows"] == 5
    assert seen[-1] == (7, 2, 5)
    assert len(seen) == (7 if every == 1 else 3)
