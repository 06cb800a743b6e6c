"""GitHub Apps on the emulator: the JWT's rules, installations, tokens that expire and then
answer 401 like revoked ones, the installation budget formula, the bot as `viewer`."""

from __future__ import annotations

from collections.abc import Iterator

import jwt
import pytest

from ghsync.emulator import Emulator, EmulatorConfig, running_emulator
from ghsync.emulator.apps import InstallationConfig
from tests.apps import APP_ID, OTHER_PRIVATE_KEY, PRIVATE_KEY, app_config
from tests.clock import T0, FakeClock
from tests.integration.emulator.conftest import TOKEN, graphql, http

INSTALLATIONS = (
    InstallationConfig(11, "acme", repositories=3, users=5),
    InstallationConfig(12, "bigcorp", repositories=60, users=30),
    InstallationConfig(13, "huge", repositories=500, users=400),
    InstallationConfig(14, "enterprise", enterprise_cloud=True),
)
VIEWER = "query Viewer { viewer { login __typename } rateLimit { limit remaining cost } }"


def app_jwt(now: float, *, key: str = PRIVATE_KEY, iat: float = -60, exp: float = 540) -> str:
    claims = {"iat": int(now + iat), "exp": int(now + exp), "iss": str(APP_ID)}
    return jwt.encode(claims, key, algorithm="RS256")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[Emulator]:
    config = EmulatorConfig(
        seed=7,
        repos=1,
        prs=5,
        tokens=(TOKEN,),
        apps=(app_config(*INSTALLATIONS),),
        installation_token_seconds=30,
    )
    with running_emulator(config, clock=clock.now) as running:
        yield running


def mint(emulator: Emulator, installation: int, now: float) -> dict[str, str]:
    url = f"{emulator.api_url}/app/installations/{installation}/access_tokens"
    answer = http(url, {}, token=app_jwt(now), method="POST")
    assert answer.status == 201, answer.text
    body: dict[str, str] = answer.json()
    return body


def test_an_app_lists_its_installations_and_mints_tokens(emulator: Emulator) -> None:
    listed = http(f"{emulator.api_url}/app/installations", token=app_jwt(T0))
    assert listed.status == 200
    assert [(i["id"], i["account"]["login"]) for i in listed.json()] == [
        (11, "acme"),
        (12, "bigcorp"),
        (13, "huge"),
        (14, "enterprise"),
    ]
    minted = mint(emulator, 11, T0)
    assert minted["token"].startswith("ghs_")
    assert minted["expires_at"] == "2023-11-14T22:13:50Z"  # T0 + 30 s
    answer = graphql(emulator, VIEWER, token=minted["token"])
    assert answer.status == 200
    # `viewer` is a User in the schema: the app's bot answers as one
    assert answer.json()["data"]["viewer"] == {"login": "ghsync-test[bot]", "__typename": "User"}


def test_installation_budgets_follow_githubs_formula(emulator: Emulator) -> None:
    limits = {}
    for installation in (11, 12, 13, 14):
        token = mint(emulator, installation, T0)["token"]
        answer = graphql(emulator, VIEWER, token=token)
        limits[installation] = answer.json()["data"]["rateLimit"]["limit"]
        assert answer.headers["x-ratelimit-limit"] == str(limits[installation])
    # 5,000 + 50 per repository and per user over 20, at most 12,500; Enterprise Cloud 10,000
    assert limits == {11: 5_000, 12: 7_500, 13: 12_500, 14: 10_000}


def test_tokens_of_one_installation_share_its_budget(emulator: Emulator) -> None:
    first, second = (mint(emulator, 11, T0)["token"] for _ in range(2))
    assert first != second
    before = graphql(emulator, VIEWER, token=first).json()["data"]["rateLimit"]["remaining"]
    after = graphql(emulator, VIEWER, token=second).json()["data"]["rateLimit"]["remaining"]
    assert after == before - 1
    pat = graphql(emulator, VIEWER, token=TOKEN).json()["data"]["rateLimit"]
    assert pat["remaining"] == pat["limit"] - 1  # a PAT's account is not the installation's


def test_an_installation_token_expires_then_answers_401(
    emulator: Emulator, clock: FakeClock
) -> None:
    token = mint(emulator, 11, T0)["token"]
    clock.advance(29)
    assert graphql(emulator, VIEWER, token=token).status == 200
    clock.advance(1)
    expired = graphql(emulator, VIEWER, token=token)
    assert expired.status == 401 and expired.json()["message"] == "Bad credentials"
    renewed = mint(emulator, 11, clock.now())["token"]
    assert graphql(emulator, VIEWER, token=renewed).status == 200


def test_an_uninstalled_app_answers_401_and_mints_nothing(emulator: Emulator) -> None:
    token = mint(emulator, 12, T0)["token"]
    emulator.uninstall(12)
    assert graphql(emulator, VIEWER, token=token).status == 401
    url = f"{emulator.api_url}/app/installations/12/access_tokens"
    assert http(url, {}, token=app_jwt(T0), method="POST").status == 404
    listed = http(f"{emulator.api_url}/app/installations", token=app_jwt(T0)).json()
    assert 12 not in [i["id"] for i in listed]


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (app_jwt(T0, key=OTHER_PRIVATE_KEY), "A JSON web token could not be decoded"),
        ("not-a-jwt", "A JSON web token could not be decoded"),
        (app_jwt(T0, iat=-700, exp=-10), "'Expiration time' claim ('exp') must be a numeric"),
        (app_jwt(T0, iat=0, exp=900), "'Expiration time' claim ('exp') is too far in the future"),
        (app_jwt(T0, iat=120, exp=500), "'Issued at' claim ('iat') must be an Integer"),
        (
            jwt.encode({"iat": int(T0), "exp": int(T0) + 60, "iss": "9"}, PRIVATE_KEY, "RS256"),
            "Integration",
        ),
    ],
    ids=["wrong-key", "garbage", "expired", "too-long", "issued-in-future", "unknown-app"],
)
def test_a_jwt_github_would_refuse_is_401(emulator: Emulator, token: str, message: str) -> None:
    answer = http(f"{emulator.api_url}/app/installations", token=token)
    assert answer.status == 401
    assert answer.json()["message"].startswith(message)


def test_an_installation_token_is_not_an_app_jwt(emulator: Emulator) -> None:
    token = mint(emulator, 11, T0)["token"]
    assert http(f"{emulator.api_url}/app/installations", token=token).status == 401
    assert (
        http(
            f"{emulator.api_url}/app/installations/99/access_tokens",
            {},
            token=app_jwt(T0),
            method="POST",
        ).status
        == 404
    )


def test_an_installation_uninstalled_after_n_requests(emulator: Emulator) -> None:
    emulator.set_faults(uninstall_after={"11": 2})  # JSON keys are strings, as over HTTP
    token = mint(emulator, 11, T0)["token"]
    assert [graphql(emulator, VIEWER, token=token).status for _ in range(3)] == [200, 200, 401]
    url = f"{emulator.api_url}/app/installations/11/access_tokens"
    assert http(url, {}, token=app_jwt(T0), method="POST").status == 404


def test_an_installation_token_sees_only_its_accounts_repositories(emulator: Emulator) -> None:
    other = mint(emulator, 12, T0)["token"]  # installed on bigcorp, not on acme
    own = mint(emulator, 11, T0)["token"]
    query = 'query { repository(owner: "acme", name: "repo-1") { id } }'
    seen = graphql(emulator, query, token=own).json()["data"]["repository"]
    hidden = graphql(emulator, query, token=other).json()
    assert seen is not None and hidden["data"]["repository"] is None
    assert hidden["errors"][0]["type"] == "NOT_FOUND"
    by_id = f'query {{ node(id: "{seen["id"]}") {{ id }} }}'
    assert graphql(emulator, by_id, token=own).json()["data"]["node"] == seen
    assert graphql(emulator, by_id, token=other).json()["data"]["node"] is None
    assert graphql(emulator, by_id, token=TOKEN).json()["data"]["node"] == seen  # a user's
