"""The secure broker instance: separate from the plain one, configured as designed, secrets kept."""

from __future__ import annotations

import os
import ssl
import stat
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.conn import create_conn
from aiokafka.errors import KafkaConnectionError
from typer.testing import CliRunner

from devtools.broker import BrokerLauncher
from devtools.broker.secure import SECURE_PORT, SecureBrokerLauncher
from streams.security import ClientCredentials, client_kwargs
from streams.settings import Settings


def test_the_secure_instance_has_its_own_directory_and_ports(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    plain, secure = BrokerLauncher(settings), SecureBrokerLauncher(settings)
    assert secure.home == tmp_path / "broker-secure" != plain.home
    assert (secure.port, secure.controller_port) == (SECURE_PORT, SECURE_PORT + 1)
    assert secure.bootstrap != plain.bootstrap


async def test_the_running_broker_enforces_the_designed_settings(
    secure_broker: SecureBrokerLauncher, admin_credentials: ClientCredentials
) -> None:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=secure_broker.bootstrap, **client_kwargs(credentials=admin_credentials)
    )
    await admin.start()
    try:
        resp = await admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, "1")])
    finally:
        await admin.close()
    configs = {name: value for r in resp for res in r.resources for name, value, *_ in res[4]}
    # allow.everyone.if.no.acl.found and super.users are the authorizer's own settings, which
    # DescribeConfigs masks like secrets; the ACL matrix proves both (deny by default; admin).
    assert configs["authorizer.class.name"].endswith("StandardAuthorizer")
    assert "allow.everyone.if.no.acl.found" in configs and "super.users" in configs
    assert configs["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert "CLIENT:SASL_SSL" in configs["listener.security.protocol.map"]
    assert "CONTROLLER:SSL" in configs["listener.security.protocol.map"]
    assert int(configs["connections.max.reauth.ms"]) > 0


def test_secrets_are_owner_only_and_never_in_logs_or_process_arguments(
    secure_broker: SecureBrokerLauncher,
) -> None:
    home = secure_broker.home
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE(secure_broker.paths.secrets.stat().st_mode) == 0o700
    secret_files = [
        *secure_broker.paths.secrets.iterdir(),
        secure_broker.paths.admin_credentials,
        home / "server.properties",
    ]
    for path in secret_files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert not (secure_broker.paths.secrets / "format.args").exists()

    admin_pw = secure_broker.credentials_env()["REGBUS_SASL_PASSWORD"]
    broker_pw = secure_broker.paths.broker_password.read_text().strip()
    assert len(admin_pw) >= 32 and len(broker_pw) >= 32
    logs = [p for p in secure_broker.logs_dir.iterdir() if p.is_file()]
    assert logs, "no broker logs to check"
    for path in logs:
        text = path.read_text(errors="replace")
        assert admin_pw not in text and broker_pw not in text, f"a password is in {path}"
    assert admin_pw not in (home / "server.properties").read_text()
    pid = secure_broker._pid()
    assert pid is not None
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    assert admin_pw not in cmdline and broker_pw not in cmdline


async def test_the_controller_port_admits_only_the_broker_certificate(
    secure_broker: SecureBrokerLauncher,
) -> None:
    """A PLAINTEXT controller would make User:ANONYMOUS a super user on a port that answers
    CreateAcls and AlterUserScramCredentials; with mutual TLS it admits only the broker."""
    host, port = "127.0.0.1", secure_broker.controller_port
    trusting = ssl.create_default_context(cafile=str(secure_broker.paths.ca_cert))
    refused = (KafkaConnectionError, ConnectionError, ssl.SSLError)
    for kwargs in ({}, {"security_protocol": "SSL", "ssl_context": trusting}):
        with pytest.raises(refused):
            conn = await create_conn(host, port, request_timeout_ms=5000, **kwargs)
            conn.close()
    with_cert = ssl.create_default_context(cafile=str(secure_broker.paths.ca_cert))
    with_cert.load_cert_chain(str(secure_broker.paths.keystore))
    conn = await create_conn(host, port, security_protocol="SSL", ssl_context=with_cert)
    conn.close()


def test_the_cli_reports_the_secure_broker_and_grants_service_accounts(
    secure_broker: SecureBrokerLauncher, tmp_path: Path, prefix: str
) -> None:
    from regbus.cli import app

    env = {
        "REGBUS_STATE_DIR": str(secure_broker.settings.state_dir),
        "REGBUS_BOOTSTRAP": secure_broker.bootstrap,
        "REGBUS_CREDENTIALS_FILE": str(secure_broker.paths.admin_credentials),
        "REGBUS_TOPIC_PREFIX": prefix,
    }
    runner = CliRunner()
    status = runner.invoke(app, ["broker", "status", "--secure"], env=env)
    assert status.exit_code == 0 and "SASL_SSL" in status.output, status.output

    account = f"{prefix}-regulator"  # principals are cluster-wide: one unique to this test
    granted = runner.invoke(app, ["broker", "grant", "regulator", "--name", account], env=env)
    assert granted.exit_code == 0, granted.output
    path = Path(secure_broker.settings.state_dir) / "credentials" / f"{account}.credentials"
    assert str(path) in granted.output.replace("\n", "")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    password = dict(line.split("=", 1) for line in path.read_text().splitlines())[
        "REGBUS_SASL_PASSWORD"
    ]
    assert password not in granted.output

    assert runner.invoke(app, ["broker", "grant", "platform"], env=env).exit_code == 2
    no_admin = {**env, "REGBUS_CREDENTIALS_FILE": ""}
    assert runner.invoke(app, ["broker", "grant", "worker"], env=no_admin).exit_code == 2
    revoked = runner.invoke(app, ["broker", "revoke", "regulator", "--name", account], env=env)
    assert revoked.exit_code == 0 and "credential deleted" in revoked.output, revoked.output
    assert not path.exists()


def test_platform_add_on_the_secure_broker_registers_and_grants(
    secure_broker: SecureBrokerLauncher, prefix: str
) -> None:
    from regbus.cli import app

    env = {
        "REGBUS_STATE_DIR": str(secure_broker.settings.state_dir),
        "REGBUS_BOOTSTRAP": secure_broker.bootstrap,
        "REGBUS_CREDENTIALS_FILE": str(secure_broker.paths.admin_credentials),
        "REGBUS_TOPIC_PREFIX": prefix,
    }
    result = CliRunner().invoke(app, ["platform", "add", f"p{prefix[-6:]}"], env=env)
    assert result.exit_code == 0, result.output
    assert "credentials written to" in result.output and "ACL(s) in place" in result.output


def test_the_compose_file_runs_the_same_secure_settings(tmp_path: Path) -> None:
    import yaml

    from devtools.broker.secure import (
        SecurePaths,
        compose_broker_settings,
        compose_init,
        secure_broker_settings,
    )
    from streams.settings import KAFKA_VERSION, PROJECT_ROOT

    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.secure.yml").read_text())
    kafka = compose["services"]["kafka"]
    assert kafka["image"] == f"apache/kafka:{KAFKA_VERSION}"
    assert kafka["ports"] == [f"127.0.0.1:{SECURE_PORT}:{SECURE_PORT}"]
    assert kafka["command"] == ["/secure/start.sh"]

    paths = SecurePaths(tmp_path / "secure")
    local = secure_broker_settings(SECURE_PORT, SECURE_PORT + 1, "/d", paths, "pw")
    docker = compose_broker_settings(paths, "pw")
    topology = {
        "controller.quorum.voters",
        "listeners",
        "advertised.listeners",
        "inter.broker.listener.name",
        "listener.security.protocol.map",
        "log.dirs",
        "listener.name.internal.scram-sha-512.sasl.jaas.config",
    }
    assert {k: v for k, v in docker.items() if k not in topology} == {
        k: v for k, v in local.items() if k not in topology
    }
    assert set(docker["listener.security.protocol.map"].split(",")) == {
        "CLIENT:SASL_SSL",
        "INTERNAL:SASL_SSL",
        "CONTROLLER:SSL",
    }

    compose_init(paths.home, uid=os.getuid(), gid=os.getgid())
    for path in [p for p in paths.home.rglob("*") if p.is_file()]:
        assert stat.S_IMODE(path.stat().st_mode) in (0o600, 0o700), path
    args = (paths.secrets / "format.args").read_text()
    assert "--add-scram" in args and "regbus-admin" in args
    assert "format.args" in (paths.home / "start.sh").read_text()
