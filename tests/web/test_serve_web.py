"""The web app on ``tale serve``'s app (``shared.cli.web``), in process: the build at ``/``
with its content security policy, ``/config.json``, and who may mint a development token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from shared import bootstrap
from shared.cli import web
from shared.cli.serve import build_app
from shared.config import Settings

INDEX = '<!doctype html><script type="module" src="/assets/app-1.js"></script>'


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "app-1.js").write_text("console.log('tale')")
    (root / "favicon.svg").write_text("<svg/>")
    return root


class Client:
    """``tale serve``'s app; every answer is read and closed (a file it streams too)."""

    def __init__(self, site: web.WebSite) -> None:
        self.app = build_app(site).test_client()

    def open(self, method: str, url: str, **kw: Any) -> Any:
        response = self.app.open(url, method=method, **kw)
        response.get_data()
        response.close()
        return response

    def get(self, url: str, **kw: Any) -> Any:
        return self.open("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.open("POST", url, **kw)


@pytest.fixture
def app(tmp_path: Path, dist: Path) -> Iterator[Client]:
    container = bootstrap.configure(Settings(home=tmp_path / "home", web_dir=dist))
    yield Client(web.site_for(container, "http://127.0.0.1:8080"))
    bootstrap.configure(Settings(home=tmp_path / "unused"))


def test_the_build_is_served_at_the_root_with_its_policy(app: Client) -> None:
    page = app.get("/")
    assert page.status_code == 200 and page.get_data(as_text=True) == INDEX
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy
    assert "media-src 'self' blob: http://127.0.0.1:8080" in policy
    assert page.headers["Cache-Control"] == "no-cache"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    asset = app.get("/assets/app-1.js")
    assert asset.status_code == 200 and "immutable" in asset.headers["Cache-Control"]
    assert asset.mimetype == "text/javascript"
    assert app.get("/favicon.svg").mimetype == "image/svg+xml"
    assert app.get("/billing").get_data(as_text=True) == INDEX  # where checkout returns
    for path in ("/assets/../../etc/passwd", "/assets/missing.js"):
        assert app.get(path).status_code == 404
    missing = app.get("/nope")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert app.post("/").mimetype == "application/problem+json"  # the API's answer


def test_the_runtime_config_names_the_local_sign_in(app: Client) -> None:
    local = app.get("/config.json").json
    assert local == {"auth": "local", "api": "", "dev_sign_in": True}
    remote = app.get("/config.json", environ_base={"REMOTE_ADDR": "192.168.1.20"}).json
    assert remote["dev_sign_in"] is False


def test_supabase_sign_in_when_supabase_issues_the_tokens(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "home",
        supabase_url="https://abc.supabase.co",
        supabase_jwt_secret="s" * 32,
        supabase_anon_key="anon-public-key",
    )
    container = bootstrap.configure(settings)
    try:
        assert container.signer is None
        site = web.site_for(container, None)
        assert site.config == {
            "auth": "supabase",
            "api": "",
            "supabase_url": "https://abc.supabase.co",
            "supabase_anon_key": "anon-public-key",
        }
        assert "connect-src 'self' https://abc.supabase.co" in site.policy
        client = Client(site)
        refused = client.post("/dev/token", json={"email": "a@b.c"})
        assert refused.status_code == 404  # no development tokens beside Supabase
    finally:
        bootstrap.configure(Settings(home=tmp_path / "unused"))


def test_a_development_token_for_this_machine(app: Client) -> None:
    answer = app.post("/dev/token", json={"email": "Writer@Localhost"})
    assert answer.status_code == 200, answer.json
    body = answer.json
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["email"] == "writer@localhost" and claims["sub"] == body["user_id"]
    again = app.post("/dev/token", json={"email": "writer@localhost"}).json
    assert again["user_id"] == body["user_id"]  # the same address, the same account
    me = app.get("/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.json["email"] == "writer@localhost"


@pytest.mark.parametrize(
    "kw",
    [
        {"environ_base": {"REMOTE_ADDR": "192.168.1.20"}},  # another machine
        {"headers": {"Host": "attacker.example:8080"}},  # a DNS-rebinding page's host
        {"headers": {"Origin": "http://attacker.example"}},  # another site's page
        {"headers": {"Sec-Fetch-Site": "cross-site"}},
    ],
)
def test_a_development_token_is_refused_to_others(app: Client, kw: dict[str, Any]) -> None:
    answer = app.post("/dev/token", json={"email": "a@b.c"}, **kw)
    assert answer.status_code == 404
    assert "token" not in json.loads(answer.get_data())


def test_a_bad_sign_in_body_is_a_problem(app: Client) -> None:
    for body in ({"email": "not an address"}, {"email": "a@b.c", "user": "x"}):
        answer = app.post("/dev/token", json=body)
        assert answer.status_code == 422 and answer.mimetype == "application/problem+json"


def test_without_a_build_the_root_says_how_to_build_it(tmp_path: Path) -> None:
    container = bootstrap.configure(Settings(home=tmp_path / "home", web_dir=tmp_path / "none"))
    try:
        client = Client(web.site_for(container, None))
        answer = client.get("/")
        assert answer.status_code == 404 and answer.mimetype == "application/problem+json"
        assert "npm" in answer.json["detail"]
    finally:
        bootstrap.configure(Settings(home=tmp_path / "unused"))
