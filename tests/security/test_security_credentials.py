"""Client credentials (environment, 0600 file, never arguments) and the ACL plan's invariants."""

from __future__ import annotations

import os
from pathlib import Path

import click
import pytest
import typer

from agents.app import faust_kwargs
from streams.security import (
    AclEntry,
    CredentialsError,
    Operation,
    PatternType,
    PrincipalKind,
    ResourceType,
    acl_plan,
    allows,
    client_kwargs,
    credentials_from_env,
    group_prefix,
    principal,
    worker_app_id,
)
from streams.topics import Catalogue


def _file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "creds"
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.fixture
def cafile(tmp_path: Path) -> Path:
    from devtools.broker.secure import SecurePaths, generate_pki

    paths = SecurePaths(tmp_path / "pki")
    generate_pki(paths, days=2)
    return paths.ca_cert


def test_nothing_configured_means_plaintext_and_no_extra_arguments() -> None:
    creds = credentials_from_env({})
    assert not creds.secure
    assert client_kwargs(credentials=creds) == {} and faust_kwargs(credentials=creds) == {}


def test_a_credentials_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = _file(tmp_path, "REGBUS_SASL_USERNAME=u\nREGBUS_SASL_PASSWORD=p\n", 0o644)
    with pytest.raises(CredentialsError, match="chmod 600"):
        credentials_from_env({"REGBUS_CREDENTIALS_FILE": str(path)})


def test_the_environment_overrides_the_file_and_sasl_ssl_is_the_default(
    tmp_path: Path, cafile: Path
) -> None:
    path = _file(
        tmp_path,
        f"# comment\nREGBUS_SASL_USERNAME=from-file\n"
        f"REGBUS_SASL_PASSWORD=file-pw\nREGBUS_SSL_CAFILE={cafile}\n",
    )
    creds = credentials_from_env(
        {"REGBUS_CREDENTIALS_FILE": str(path), "REGBUS_SASL_USERNAME": "from-env"}
    )
    assert (creds.username, creds.password) == ("from-env", "file-pw")
    assert creds.security_protocol == "SASL_SSL" and creds.mechanism == "SCRAM-SHA-512"
    kwargs = client_kwargs(credentials=creds)
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert kwargs["ssl_context"].check_hostname
    assert "file-pw" not in repr(creds) and "file-pw" not in repr(faust_kwargs(credentials=creds))


def test_sasl_plaintext_has_no_tls_context() -> None:
    creds = credentials_from_env(
        {
            "REGBUS_SECURITY_PROTOCOL": "sasl_plaintext",
            "REGBUS_SASL_USERNAME": "u",
            "REGBUS_SASL_PASSWORD": "p",
        }
    )
    kwargs = client_kwargs(credentials=creds)
    assert kwargs["security_protocol"] == "SASL_PLAINTEXT" and "ssl_context" not in kwargs
    faust_creds = faust_kwargs(credentials=creds)["broker_credentials"]
    assert faust_creds.protocol.value == "SASL_PLAINTEXT"
    assert faust_creds.mechanism.value == "SCRAM-SHA-512"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REGBUS_SECURITY_PROTOCOL": "SASL_SSL", "REGBUS_SASL_USERNAME": "u"}, "PASSWORD"),
        ({"REGBUS_SECURITY_PROTOCOL": "SSL"}, "use one of"),
        (
            {
                "REGBUS_SASL_USERNAME": "u",
                "REGBUS_SASL_PASSWORD": "p",
                "REGBUS_SASL_MECHANISM": "PLAIN",
            },
            "MECHANISM",
        ),
        (
            {
                "REGBUS_SASL_USERNAME": "u",
                "REGBUS_SASL_PASSWORD": "p",
                "REGBUS_SSL_CAFILE": "/nonexistent/ca.pem",
            },
            "no such file",
        ),
        ({"REGBUS_CREDENTIALS_FILE": "/nonexistent/creds"}, "does not exist"),
    ],
)
def test_incomplete_or_wrong_settings_say_what_is_wrong(env: dict[str, str], message: str) -> None:
    with pytest.raises(CredentialsError, match=message):
        credentials_from_env(env)


def test_no_command_line_option_takes_a_secret() -> None:
    from regbus.cli import app

    def params(command: click.Command) -> list[str]:
        names = [p.name or "" for p in command.params]
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                names += params(sub)
        return names

    names = params(typer.main.get_command(app))
    assert names, "no CLI parameters found: the scan would be empty"
    assert not [n for n in names if any(w in n.lower() for w in ("password", "secret"))]


# the plan ---------------------------------------------------------------------------------
CAT = Catalogue("regbus").with_platforms(["acme", "acme-eu", "regbus-admin"])


def test_a_platform_principal_can_never_be_a_super_user_or_another_platform() -> None:
    assert principal(PrincipalKind.PLATFORM, "regbus-admin") == "User:platform-regbus-admin"
    with pytest.raises(ValueError):
        principal(PrincipalKind.WORKER, "platform-acme")
    with pytest.raises(ValueError):
        principal(PrincipalKind.REGULATOR, "a.b")


def test_group_prefixes_do_not_overlap() -> None:
    prefixes = [group_prefix(CAT, PrincipalKind.PLATFORM, p) for p in CAT.platforms]
    prefixes += [group_prefix(CAT, PrincipalKind.REGULATOR, "regbus-regulator")]
    for mine in prefixes:
        others = [p for p in prefixes if p != mine] + [worker_app_id(CAT)]
        assert not [o for o in others if o.startswith(mine)], mine


def test_a_platform_plan_names_only_its_own_topics_and_groups() -> None:
    plan = acl_plan(CAT, PrincipalKind.PLATFORM, "acme")
    topics = {e.resource_name for e in plan if e.resource_type is ResourceType.TOPIC}
    assert topics == {CAT.ingress("acme"), CAT.inbox("acme")}
    assert all(
        e.pattern is PatternType.LITERAL for e in plan if e.resource_type is ResourceType.TOPIC
    )
    assert not allows(plan, ResourceType.TOPIC, CAT.ingress("acme-eu"), Operation.WRITE)
    assert not allows(plan, ResourceType.GROUP, "regbus.platform-acme-eu.x", Operation.READ)
    assert allows(plan, ResourceType.GROUP, "regbus.platform-acme.x", Operation.READ)


def test_no_principal_but_the_worker_writes_canonical_topics() -> None:
    from schemas.families import CaseFamily

    for kind, name in [
        (PrincipalKind.PLATFORM, "acme"),
        (PrincipalKind.BUREAU, "b"),
        (PrincipalKind.REGULATOR, "r"),
        (PrincipalKind.AUDITOR, "a"),
    ]:
        plan = acl_plan(CAT, kind, name)
        for fam in CaseFamily:
            assert not allows(plan, ResourceType.TOPIC, CAT.cases(fam), Operation.WRITE), kind


def test_allows_follows_kafka_matching_rules() -> None:
    def entry(name: str, pattern: PatternType, op: Operation) -> AclEntry:
        return AclEntry("User:x", ResourceType.TOPIC, name, pattern, op)

    prefixed = [entry("p.ingress.", PatternType.PREFIXED, Operation.READ)]
    assert allows(prefixed, ResourceType.TOPIC, "p.ingress.acme", Operation.READ)
    assert allows(prefixed, ResourceType.TOPIC, "p.ingress.acme", Operation.DESCRIBE)
    assert not allows(prefixed, ResourceType.TOPIC, "p.ingress.acme", Operation.WRITE)
    assert not allows(prefixed, ResourceType.TOPIC, "p.ingres", Operation.READ)
    assert not allows(prefixed, ResourceType.GROUP, "p.ingress.acme", Operation.READ)
    literal = [entry("p.alerts", PatternType.LITERAL, Operation.WRITE)]
    assert allows(literal, ResourceType.TOPIC, "p.alerts", Operation.WRITE)
    assert not allows(literal, ResourceType.TOPIC, "p.alerts2", Operation.WRITE)
    assert allows(
        [entry("*", PatternType.LITERAL, Operation.ALL)], ResourceType.TOPIC, "t", Operation.WRITE
    )


def test_the_credentials_file_check_rejects_a_file_owned_by_someone_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path, "REGBUS_SASL_USERNAME=u\nREGBUS_SASL_PASSWORD=p\n")
    monkeypatch.setattr(os, "getuid", lambda: path.stat().st_uid + 1)
    with pytest.raises(CredentialsError, match="not owned"):
        credentials_from_env({"REGBUS_CREDENTIALS_FILE": str(path)})
