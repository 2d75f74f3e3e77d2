"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

# No per-example deadline: on two shared cores a slow example is noise, not a failure (performance is measured
# in bench/, never asserted in tests).
settings.register_profile("notis", deadline=None)
settings.load_profile("notis")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "raw_moto: run without the strict-AWS contract layer (to show what moto alone accepts)"
    )
    from notis_cli import contract

    contract.install()  # now, so that clients made by module- or session-scoped fixtures are hooked too


@pytest.fixture(autouse=True)
def aws_contract(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every botocore client a test creates (chalicelib.aws.client, moto-backed or not) is held to the AWS API
    reference by notis_cli.contract; `@pytest.mark.raw_moto` opts a test out."""
    from notis_cli import contract

    if request.node.get_closest_marker("raw_moto"):
        contract.uninstall()
        try:
            yield
        finally:
            contract.install()
        return
    contract.install()
    yield


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """An in-process moto AWS provisioned from .chalice/resources.json, as the deployment defines it.

    Yields provision()'s result (bucket, table, queues {name: url}, configuration_set, sender, region, env) plus
    "settings": load_settings() with NOTIS_* pointing at the provisioned resources (also set in os.environ).
    """
    from moto import mock_aws

    from chalicelib import aws as aws_clients
    from chalicelib.config import load_settings
    from notis_cli.provision import provision

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-north-1",
        "AWS_REGION": "eu-north-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        aws_clients.reset_clients()
        names = provision(session_or_clients=aws_clients.client, settings=load_settings())
        for key, value in names["env"].items():
            monkeypatch.setenv(key, value)
        yield {**names, "settings": load_settings()}
    aws_clients.reset_clients()


@pytest.fixture(autouse=True)
def _no_local_stack(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A developer's running `make run` must not capture the CLI under test (see notis_cli.target)."""
    monkeypatch.setenv("NOTIS_LOCAL_STATE", str(tmp_path_factory.getbasetemp() / "no-local-stack.json"))
