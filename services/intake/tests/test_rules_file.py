"""A branch's classification rules file is parsed once, and again only when it changes: an
edit counts from the next request, without a restart."""
import json
import os

from services.intake.domain import model
from services.intake.service_layer.receiving import BranchPolicy


def test_the_rules_file_is_read_again_only_when_it_changes(tmp_path):
    folder = tmp_path / "classification"
    folder.mkdir()
    path = folder / "SH.json"
    path.write_text(json.dumps([{"name": "漏水", "keywords": ["漏水"], "priority": "B"}],
                               ensure_ascii=False), encoding="utf-8")
    first = BranchPolicy.load("SH", {"timezone": "Asia/Shanghai"}, tmp_path)
    again = BranchPolicy.load("SH", {"timezone": "Asia/Shanghai"}, tmp_path)
    assert again.rules is first.rules                    # not parsed a second time
    assert len(first.rules) == len(model.DEFAULT_RULES) + 1

    path.write_text(json.dumps([{"name": "漏水", "keywords": ["漏水"], "priority": "B"},
                                {"name": "停电", "keywords": ["停电"], "priority": "A"}],
                               ensure_ascii=False), encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    edited = BranchPolicy.load("SH", {"timezone": "Asia/Shanghai"}, tmp_path)
    assert len(edited.rules) == len(model.DEFAULT_RULES) + 2   # counts from the next request

    path.unlink()
    assert BranchPolicy.load("SH", {}, tmp_path).rules == model.DEFAULT_RULES
