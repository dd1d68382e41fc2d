"""SMS texts: every template renders with exactly its declared params and refuses to render without one."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError, meta

from adapters.sms.texts import TEMPLATE_DIR, TEMPLATE_PARAMS, TEMPLATES, environment, render_sms

SAMPLE = {
    "code": "384615", "ttl_minutes": "5", "app_no": "AP20250601000123", "amount": "50,000.00",
    "doc_no": "DC20250601000123-1", "deadline_hours": "48", "rate_percent": "4.60",
    "line_no": "LN20250601000123", "expiry_date": "2027-06-01", "note_no": "NT20250601000123-01",
    "account_tail": "1234", "due_date": "2027-01-10", "outstanding": "9,000.00", "reason": "账户余额不足",
    "offer_no": "WL20261129000001-17", "link": "http://127.0.0.1:8000/v1/whitelist-offers/WL20261129000001-17",
    "expires_on": "2026-12-14", "date": "2026年12月7日", "new_mobile": "139****5678", "branch": "榜头信用社",
}


def test_every_template_file_is_listed_and_every_listed_template_has_a_file() -> None:
    assert sorted(p.stem for p in TEMPLATE_DIR.glob("*.txt")) == sorted(TEMPLATES)


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_uses_exactly_its_declared_params(name: str) -> None:
    env = environment()
    source = env.loader.get_source(env, f"{name}.txt")[0]
    assert meta.find_undeclared_variables(env.parse(source)) == set(TEMPLATE_PARAMS[name])


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_renders_short_signed_chinese_text_with_its_params(name: str) -> None:
    params = {p: SAMPLE[p] for p in TEMPLATE_PARAMS[name]}
    body = render_sms(name, params)
    assert body.endswith("【农e贷】")
    assert "\n" not in body and "{" not in body
    assert len(body) <= 120
    for value in params.values():
        assert value in body


@pytest.mark.parametrize("name", TEMPLATES)
def test_each_missing_param_is_an_error(name: str) -> None:
    for missing in TEMPLATE_PARAMS[name]:
        params = {p: SAMPLE[p] for p in TEMPLATE_PARAMS[name] if p != missing}
        with pytest.raises(UndefinedError):
            render_sms(name, params)


def test_unknown_template_is_an_error() -> None:
    with pytest.raises(KeyError):
        render_sms("no_such_template", {})


def test_otp_confirm_tells_the_customer_to_give_the_code_only_if_they_agree() -> None:
    body = render_sms("otp_confirm", {p: SAMPLE[p] for p in TEMPLATE_PARAMS["otp_confirm"]})
    assert "客户经理" in body and "同意" in body
