"""Personal data in error texts and log lines (issue #13)."""
import pytest
from sqlalchemy import Column, MetaData, String, Table
from sqlalchemy.exc import IntegrityError

from aftersales import logs
from aftersales.db import make_engine


def test_a_database_error_does_not_carry_the_customers_data(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    md = MetaData()
    people = Table("people", md, Column("name", String, primary_key=True), Column("email", String))
    md.create_all(engine)
    row = {"name": "张三丰", "email": "zhang@example.com"}
    with engine.begin() as c:
        c.execute(people.insert().values(**row))
    with pytest.raises(IntegrityError) as caught:
        with engine.begin() as c:
            c.execute(people.insert().values(**row))
    assert "张三丰" not in str(caught.value) and "zhang@example.com" not in str(caught.value)
    engine.dispose()


def test_email_addresses_are_masked_in_log_text():
    text = logs.mask_text("回访 zhang.sanfeng@example.com 与 li@corp.example.cn，电话 13812345678")
    assert "zhang.sanfeng@example.com" not in text and "li@corp.example.cn" not in text
    assert "z***@example.com" in text and "138****5678" in text
