"""Reference data (branches.json) is read once and picked up again when the file changes."""
import json
import os

from aftersales import reference


def test_branches_are_cached_and_reloaded_when_the_file_changes(tmp_path, monkeypatch):
    f = tmp_path / "branches.json"
    f.write_text(json.dumps({"SH": {"name": "上海分公司", "timezone": "Asia/Shanghai"},
                             "HQ": {"name": "总部", "hq": True}}), encoding="utf-8")
    assert set(reference.branches(str(tmp_path))) == {"SH"}
    assert reference.timezone_of("SH", str(tmp_path)) == "Asia/Shanghai"
    assert reference.timezone_of("XX", str(tmp_path)) == "Asia/Shanghai"

    f.write_text(json.dumps({"SH": {"name": "上海分公司", "timezone": "Asia/Urumqi"}}),
                 encoding="utf-8")
    st = f.stat()
    os.utime(f, (st.st_atime, st.st_mtime + 10))
    # within the recheck interval the cached copy answers (no file read per message)
    assert reference.timezone_of("SH", str(tmp_path)) == "Asia/Shanghai"
    monkeypatch.setattr(reference, "RECHECK_S", 0.0)
    assert reference.timezone_of("SH", str(tmp_path)) == "Asia/Urumqi"
