"""The embedded default (`make up`) runs on SQLite, which allows one writer at a time: the paths where the
API and a simulator both write in one request must not deadlock there."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.main import create_app
from cli.migrate import upgrade
from config.settings import Settings
from db.engine import make_engine
from tests.api import data


def test_customer_login_by_sms_code_works_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    upgrade(url, quiet=True)
    engine = make_engine(url)
    data.ensure_reference(engine)
    customer = data.add_customer(engine)
    settings = Settings(env="test", database_url=url, otp_echo=True, temporal_address="127.0.0.1:9",
                        jwt_secret="api-tests-secret-0123456789abcdef0123456789")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        sent = client.post("/v1/auth/otp", json={"mobile": customer.mobile})
        assert sent.status_code == 202, sent.text
        verified = client.post("/v1/auth/otp/verify", json={"mobile": customer.mobile, "code": sent.json()["dev_code"]})
        assert verified.status_code == 200, verified.text
    engine.dispose()
