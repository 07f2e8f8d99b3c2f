"""Reading untrusted JSON within bounds (aftersales.jsonbounds), the bus decode and HTTP body
reading built on it: a poison body is refused with its reason, never a crash."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from aftersales import jsonbounds
from aftersales.contracts import topology
from aftersales.errors import InvalidInput, PermanentError
from aftersales.messaging.entrypoint import EventConsumer
from aftersales.service import json_response, read_json

BRACKETS = b"[" * 100_000                                       # 100 KB, under the limit
DEEP_FIELD = (b'{"request_id": "CALL-1", "source": "pc-sh", "fault": '
              + b"[" * 20_000 + b"]" * 20_000 + b"}")


def _bus_decoder(queue="aftersales.intake.phone_center"):
    consumer = EventConsumer(queue)
    consumer.spec = topology.queue(queue)
    return consumer


def _request(body: bytes) -> Request:
    return Request(EnvironBuilder(method="POST", data=body,
                                  content_type="application/json").get_environ())


def test_a_body_of_100000_open_brackets_is_not_json_and_raises_no_recursion_error():
    with pytest.raises(jsonbounds.BodyError) as exc:
        jsonbounds.loads(BRACKETS)
    assert exc.value.errors == [{"field": "(body)", "message":
                                 "is not JSON (nested deeper than 32 levels and never closed)"}]


def test_a_value_nested_20000_deep_is_cut_out_and_named_while_the_rest_stays_readable():
    doc = jsonbounds.loads(DEEP_FIELD, strict=False)
    assert doc["request_id"] == "CALL-1" and doc["source"] == "pc-sh"
    [problem] = jsonbounds.problems(doc)
    assert problem["field"].startswith("fault.0.0.")
    assert problem["message"] == "is nested deeper than 32 levels"
    with pytest.raises(jsonbounds.BodyError) as exc:      # strict: refused, naming the field
        jsonbounds.loads(DEEP_FIELD)
    assert exc.value.errors == [problem]


def test_nan_and_infinity_are_not_json_and_numbers_beyond_range_are_named():
    for raw in (b'{"a": NaN}', b'{"a": -Infinity}'):
        with pytest.raises(jsonbounds.BodyError, match="is not a JSON number"):
            jsonbounds.loads(raw)
    doc = jsonbounds.loads(b'{"big": ' + b"9" * 5000 + b', "inf": 1e999, "ok": 12.5, "n": 7}',
                           strict=False)
    assert (doc["ok"], doc["n"]) == (12.5, 7)
    assert {p["field"]: p["message"] for p in jsonbounds.problems(doc)} == {
        "big": "is a number with more than 30 digits", "inf": "is a number out of range"}


def test_lone_surrogates_are_named_in_values_and_keys_but_a_pair_is_text():
    doc = jsonbounds.loads(rb'{"customer": {"name": "\ud800x"}, "\udc00": 1, "ok": "\ud83d\ude00"}',
                           strict=False)
    assert doc["ok"] == "\U0001F600"
    assert jsonbounds.problems(doc) == [
        {"field": "customer.name", "message": "contains a lone surrogate (not valid Unicode text)"},
        {"field": "\\udc00", "message": "is a field name with a lone surrogate (not valid Unicode text)"},
    ]
    assert jsonbounds.printable("a\ud800b").encode("utf-8") == b"a\\ud800b"


def _nested(depth_budget=40):
    leaves = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                       st.text(alphabet="[]{}\"\\ab,:", max_size=5))
    return st.recursive(leaves, lambda kids: st.one_of(st.lists(kids, max_size=2),
                                                       st.dictionaries(st.text(max_size=3), kids,
                                                                       max_size=2)),
                        max_leaves=depth_budget)


def _depth(x) -> int:
    if isinstance(x, list):
        return 1 + max(map(_depth, x), default=0)
    if isinstance(x, dict):
        return 1 + max(map(_depth, x.values()), default=0)
    return 0


@settings(max_examples=200, derandomize=True, database=None)
@given(_nested(), st.integers(0, 60))
def test_a_document_within_the_depth_limit_reads_exactly_as_json_does(doc, wrap):
    for _ in range(wrap):
        doc = [doc]
    raw = json.dumps(doc)
    if _depth(doc) <= jsonbounds.MAX_DEPTH:
        assert jsonbounds.loads(raw) == json.loads(raw)
    else:
        cut = jsonbounds.loads(raw, strict=False)
        assert _depth(cut) <= jsonbounds.MAX_DEPTH
        assert jsonbounds.problems(cut)


def test_the_bus_decode_parks_poison_bodies_with_a_reason_instead_of_crashing():
    decoder = _bus_decoder()
    for body, reason in ((BRACKETS, "body is not JSON (nested deeper than 32 levels"),
                         (b"{" * 300_000, "the limit is 262144"),
                         (b'{"a": NaN}', "NaN is not a JSON number")):
        with pytest.raises(PermanentError, match=reason.replace("(", r"\(")):
            decoder.decode(SimpleNamespace(body=body))
    # the phone-center format keeps what is readable, for intake to name the field and answer
    doc = decoder.decode(SimpleNamespace(body=DEEP_FIELD))
    assert doc["request_id"] == "CALL-1"
    # a platform event beyond the bounds is refused outright, naming the field
    with pytest.raises(PermanentError, match=r"data\.x\.0\.0[.0]*: is nested deeper"):
        _bus_decoder("aftersales.dispatch.events").decode(SimpleNamespace(
            body=b'{"data": {"x": ' + b"[" * 50 + b"]" * 50 + b"}}"))


def test_an_http_body_beyond_the_bounds_is_a_400_or_a_422_naming_the_field():
    for body, field in ((BRACKETS, "(body)"), (b'{"a": Infinity}', "(body)"),
                        (DEEP_FIELD, None), (rb'{"note": "\udfff"}', "note")):
        with pytest.raises(InvalidInput) as exc:
            read_json(_request(body))
        assert exc.value.errors[0]["field"] == field or (
            field is None and exc.value.errors[0]["field"].startswith("fault.0.0"))
    assert read_json(_request(DEEP_FIELD), strict=False)["source"] == "pc-sh"


def test_a_json_response_holding_a_lone_surrogate_is_written_as_its_escape():
    resp = json_response(422, {"errors": [{"field": "x\ud800"}]})
    assert json.loads(resp.get_data()) == {"errors": [{"field": "x\ud800"}]}
