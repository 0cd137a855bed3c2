"""The secure local broker: a second, separate KRaft instance with SASL_SSL and ACLs.

``regbus broker up --secure`` runs it beside the plain broker, never instead of it: its own
state directory (``<state_dir>/broker-secure``), its own ports (client 19192, controller 19193
by default), its own cluster id. What it adds:

* client listener ``CLIENT`` = SASL_SSL, mechanism SCRAM-SHA-512, server certificate signed by
  a CA generated here (``secrets/ca.pem``; clients pass it as ``REGBUS_SSL_CAFILE``);
* controller listener ``CONTROLLER`` = SSL with client certificates required (mutual TLS), on
  loopback. A PLAINTEXT controller listener would make ``User:ANONYMOUS`` a super user, and the
  Kafka 4 controller answers CreateAcls, AlterUserScramCredentials, CreateTopics… itself
  (KIP-919), so any local process could have granted itself anything. With mTLS only a
  holder of the broker key (``User:regbus-broker``) gets in;
* ``StandardAuthorizer``, ``allow.everyone.if.no.acl.found=false``, super users
  ``User:regbus-admin`` (the bureau's operator) and ``User:regbus-broker`` (the node itself:
  controller mTLS and inter-broker SCRAM);
* both SCRAM credentials created at storage-format time (``StorageTool format --add-scram``),
  handed to the JVM through a 0600 argument file so the passwords never appear in a process
  listing;
* ``connections.max.reauth.ms`` (10 s by default) so a revoked credential cannot keep an old
  connection alive.

Every generated secret lives under ``broker-secure/`` (mode 0700, files 0600) and is never
printed or logged. ``admin.credentials`` there is a ready credentials file for
``REGBUS_CREDENTIALS_FILE``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import json
import os
import secrets
import subprocess
from pathlib import Path

from devtools.broker.launcher import (
    _LOG4J2,
    BrokerError,
    BrokerLauncher,
    BrokerStatus,
    _answers_metadata,
    broker_settings,
)
from streams.security import write_secret
from streams.settings import KAFKA_VERSION, Settings

SECURE_PORT = 19192
SECURE_CLUSTER_ID = "cmVnYnVzLXNlY3VyZS0wMQ"  # base64url("regbus-secure-01"), a 16-byte id
ADMIN_USER = "regbus-admin"
BROKER_USER = "regbus-broker"
SCRAM_MECHANISM = "SCRAM-SHA-512"
DEFAULT_REAUTH_MS = 10_000
_PRINCIPAL_RULES = "RULE:^CN=([a-zA-Z0-9._-]+)$/$1/,DEFAULT"


@dataclasses.dataclass(frozen=True)
class SecurePaths:
    """Where the secure instance keeps its key material (all under ``home/secrets``)."""

    home: Path

    @property
    def secrets(self) -> Path:
        return self.home / "secrets"

    @property
    def ca_cert(self) -> Path:
        return self.secrets / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.secrets / "ca.key"

    @property
    def keystore(self) -> Path:
        """The broker's PEM keystore: PKCS#8 private key followed by its certificate chain."""
        return self.secrets / "broker.pem"

    @property
    def broker_password(self) -> Path:
        return self.secrets / "broker.password"

    @property
    def admin_credentials(self) -> Path:
        return self.home / "admin.credentials"

    @property
    def ports(self) -> Path:
        return self.home / "ports.json"


def secure_broker_settings(
    port: int,
    controller_port: int,
    log_dir: str,
    paths: SecurePaths,
    broker_password: str,
    reauth_ms: int = DEFAULT_REAUTH_MS,
) -> dict[str, str]:
    """The secure instance's server.properties: the plain settings plus listeners and ACLs."""
    props = broker_settings(port, controller_port, log_dir)
    jaas = _scram_jaas(BROKER_USER, broker_password)
    props.update(
        {
            "listeners": f"CLIENT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
            "advertised.listeners": f"CLIENT://127.0.0.1:{port}",
            "inter.broker.listener.name": "CLIENT",
            "listener.security.protocol.map": "CLIENT:SASL_SSL,CONTROLLER:SSL",
            "sasl.enabled.mechanisms": SCRAM_MECHANISM,
            "sasl.mechanism.inter.broker.protocol": SCRAM_MECHANISM,
            "listener.name.client.scram-sha-512.sasl.jaas.config": jaas,
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(paths.keystore),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(paths.ca_cert),
            "ssl.endpoint.identification.algorithm": "https",
            "ssl.enabled.protocols": "TLSv1.3,TLSv1.2",
            "listener.name.controller.ssl.client.auth": "required",
            "ssl.principal.mapping.rules": _PRINCIPAL_RULES,
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found": "false",
            "super.users": f"User:{ADMIN_USER};User:{BROKER_USER}",
            "connections.max.reauth.ms": str(reauth_ms),
        }
    )
    return props


def generate_pki(paths: SecurePaths, days: int = 730, dns: tuple[str, ...] = ()) -> None:
    """Make a CA and a broker certificate (CN=regbus-broker, SAN 127.0.0.1, localhost, ``dns``).

    The broker certificate serves both TLS sides: server on both listeners, client towards
    the controller (mutual TLS), hence both extended key usages.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "regbus local CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=days + 30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, BROKER_USER)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.DNSName("localhost"),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    pkcs8 = serialization.PrivateFormat.PKCS8
    plain = serialization.NoEncryption()
    _private_dir(paths.secrets)
    write_secret(paths.ca_key, ca_key.private_bytes(pem, pkcs8, plain))
    write_secret(paths.ca_cert, ca_cert.public_bytes(pem))
    write_secret(
        paths.keystore,
        key.private_bytes(pem, pkcs8, plain) + cert.public_bytes(pem) + ca_cert.public_bytes(pem),
    )


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)


def new_password() -> str:
    """A random SCRAM password (192 bits, URL-safe: no character StorageTool parses)."""
    return secrets.token_urlsafe(24)


class SecureBrokerLauncher(BrokerLauncher):
    """``regbus broker up|down|status|logs --secure``: the plain launcher, other dir and ports."""

    def __init__(
        self,
        settings: Settings,
        heap: str = "512m",
        port: int | None = None,
        controller_port: int | None = None,
        reauth_ms: int = DEFAULT_REAUTH_MS,
    ) -> None:
        super().__init__(settings, heap)
        self.home = self.settings.state_dir / "broker-secure"
        self.paths = SecurePaths(self.home)
        saved = self._saved_ports()
        self.port = (
            port or saved.get("port") or int(os.environ.get("REGBUS_SECURE_PORT", SECURE_PORT))
        )
        self.controller_port = (
            controller_port or (saved.get("controller_port") if not port else None) or self.port + 1
        )
        self.reauth_ms = reauth_ms

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def credentials_env(self) -> dict[str, str]:
        """The admin's client settings as ``REGBUS_*`` variables (password included)."""
        return _read_env_file(self.paths.admin_credentials)

    def up(self, timeout: float = 90.0) -> BrokerStatus:
        _private_dir(self.home)
        return super().up(timeout)

    def status(self) -> BrokerStatus:
        st = super().status()
        detail = st.detail.replace(
            f"Kafka {KAFKA_VERSION}", f"Kafka {KAFKA_VERSION} (SASL_SSL, SCRAM-SHA-512, ACLs)"
        )
        return dataclasses.replace(st, detail=detail)

    def down(self, purge: bool = False, timeout: float = 60.0) -> str:
        return super().down(purge, timeout).replace("broker", "secure broker", 1)

    # internals -------------------------------------------------------------------------
    def _answers(self, timeout: float) -> bool:
        if not self.paths.admin_credentials.exists():
            return False
        from streams.security import client_kwargs, credentials_from_env

        kwargs = client_kwargs(credentials=credentials_from_env(self.credentials_env()))
        return _answers_metadata(self.bootstrap, timeout, kwargs)

    def _write_config(self) -> Path:
        if not self.paths.keystore.exists():
            generate_pki(self.paths)
        if not self.paths.broker_password.exists():
            write_secret(self.paths.broker_password, new_password())
        if not self.paths.admin_credentials.exists():
            write_secret(
                self.paths.admin_credentials,
                _env_file(
                    {
                        "REGBUS_SASL_USERNAME": ADMIN_USER,
                        "REGBUS_SASL_PASSWORD": new_password(),
                        "REGBUS_SECURITY_PROTOCOL": "SASL_SSL",
                        "REGBUS_SSL_CAFILE": str(self.paths.ca_cert),
                    }
                ),
            )
        props = secure_broker_settings(
            self.port,
            self.controller_port,
            str(self.data_dir),
            self.paths,
            self.paths.broker_password.read_text().strip(),
            self.reauth_ms,
        )
        path = self.home / "server.properties"
        write_secret(path, _properties(props))
        self.paths.ports.write_text(
            json.dumps({"port": self.port, "controller_port": self.controller_port})
        )
        (self.home / "log4j2.properties").write_text(_LOG4J2.format(logs=self.logs_dir))
        return path

    def _format(self, props: Path) -> None:
        admin_password = self.credentials_env()["REGBUS_SASL_PASSWORD"]
        broker_password = self.paths.broker_password.read_text().strip()
        jars = ":".join(str(p) for p in sorted(self.lib.glob("*.jar")))
        args = [
            "-Xmx256m",
            "-cp",
            jars,
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            "kafka.tools.StorageTool",
            "format",
            "-t",
            SECURE_CLUSTER_ID,
            "-c",
            str(props),
            "--add-scram",
            f"{SCRAM_MECHANISM}=[name={ADMIN_USER},password={admin_password}]",
            "--add-scram",
            f"{SCRAM_MECHANISM}=[name={BROKER_USER},password={broker_password}]",
        ]
        argfile = self.paths.secrets / "format.args"
        write_secret(argfile, "\n".join(_argfile_quote(a) for a in args) + "\n")
        try:
            proc = subprocess.run(
                ["java", f"@{argfile}"], capture_output=True, text=True, check=False
            )
        finally:
            argfile.unlink(missing_ok=True)
        if proc.returncode != 0:
            tail = proc.stderr.strip()[-300:]
            for secret in (admin_password, broker_password):
                tail = tail.replace(secret, "***")
            raise BrokerError("formatting secure KRaft storage failed: " + tail)

    def _saved_ports(self) -> dict[str, int]:
        try:
            return {k: int(v) for k, v in json.loads(self.paths.ports.read_text()).items()}
        except (FileNotFoundError, ValueError):
            return {}


# docker-compose.secure.yml ------------------------------------------------------------------
COMPOSE_HOST = "kafka"
COMPOSE_INTERNAL_PORT = 29192

_START_SH = """\
#!/bin/bash
# Written by `python -m devtools.broker.secure compose-init`; runs inside apache/kafka:{version}.
set -euo pipefail
CP=$(ls /opt/kafka/libs/*.jar | tr '\\n' ':')
if [ ! -f /var/lib/kafka/data/meta.properties ]; then
  java -cp "$CP" @{home}/secrets/format.args   # passwords stay in the 0600 argument file
fi
rm -f {home}/secrets/format.args
exec /opt/kafka/bin/kafka-server-start.sh {home}/server.properties
"""


def compose_broker_settings(
    paths: SecurePaths, broker_password: str, data_dir: str = "/var/lib/kafka/data"
) -> dict[str, str]:
    """The secure settings for docker-compose.secure.yml: host port 19192 and a second
    SASL_SSL listener for containers (``kafka:29192``); controller mTLS on ``kafka:19193``."""
    props = secure_broker_settings(SECURE_PORT, SECURE_PORT + 1, data_dir, paths, broker_password)
    jaas = props["listener.name.client.scram-sha-512.sasl.jaas.config"]
    props.update(
        {
            "controller.quorum.voters": f"1@{COMPOSE_HOST}:{SECURE_PORT + 1}",
            "listeners": f"CLIENT://:{SECURE_PORT},INTERNAL://:{COMPOSE_INTERNAL_PORT},"
            f"CONTROLLER://:{SECURE_PORT + 1}",
            "advertised.listeners": f"CLIENT://127.0.0.1:{SECURE_PORT},"
            f"INTERNAL://{COMPOSE_HOST}:{COMPOSE_INTERNAL_PORT}",
            "inter.broker.listener.name": "INTERNAL",
            "listener.security.protocol.map": "CLIENT:SASL_SSL,INTERNAL:SASL_SSL,CONTROLLER:SSL",
            "listener.name.internal.scram-sha-512.sasl.jaas.config": jaas,
        }
    )
    return props


def compose_init(home: Path, uid: int = 1000, gid: int = 1000) -> None:
    """Prepare ``home`` (the ``/secure`` volume) for docker-compose.secure.yml, once.

    Key material, passwords, server.properties, a Java client config for the health check,
    the format argument file and start.sh; everything 0600/0700 and owned by the image's
    ``appuser`` (``uid``). Existing material is kept, so re-running is harmless.
    """
    paths = SecurePaths(home)
    _private_dir(home)
    if not paths.keystore.exists():
        generate_pki(paths, dns=(COMPOSE_HOST,))
    if not paths.broker_password.exists():
        write_secret(paths.broker_password, new_password())
    if not paths.admin_credentials.exists():
        write_secret(
            paths.admin_credentials,
            _env_file(
                {
                    "REGBUS_SASL_USERNAME": ADMIN_USER,
                    "REGBUS_SASL_PASSWORD": new_password(),
                    "REGBUS_SECURITY_PROTOCOL": "SASL_SSL",
                    "REGBUS_SSL_CAFILE": str(paths.ca_cert),
                }
            ),
        )
    admin_pw = _read_env_file(paths.admin_credentials)["REGBUS_SASL_PASSWORD"]
    broker_pw = paths.broker_password.read_text().strip()
    props = compose_broker_settings(paths, broker_pw)
    write_secret(home / "server.properties", _properties(props))
    client = {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": SCRAM_MECHANISM,
        "sasl.jaas.config": _scram_jaas(ADMIN_USER, admin_pw),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(paths.ca_cert),
    }
    write_secret(home / "admin-client.properties", _properties(client))
    write_secret(
        paths.secrets / "format.args",
        "\n".join(
            _argfile_quote(a)
            for a in [
                "kafka.tools.StorageTool",
                "format",
                "--ignore-formatted",
                "-t",
                SECURE_CLUSTER_ID,
                "-c",
                str(home / "server.properties"),
                "--add-scram",
                f"{SCRAM_MECHANISM}=[name={ADMIN_USER},password={admin_pw}]",
                "--add-scram",
                f"{SCRAM_MECHANISM}=[name={BROKER_USER},password={broker_pw}]",
            ]
        )
        + "\n",
    )
    start = home / "start.sh"
    start.write_text(_START_SH.format(version=KAFKA_VERSION, home=home))
    start.chmod(0o700)
    for path in [home, *home.rglob("*")]:
        os.chown(path, uid, gid)


def _scram_jaas(user: str, password: str) -> str:
    return (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{user}" password="{password}";'
    )


def _properties(values: dict[str, str]) -> str:
    return "".join(f"{k}={v}\n" for k, v in values.items())


def _argfile_quote(arg: str) -> str:
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _env_file(values: dict[str, str]) -> str:
    return "".join(f"{k}={v}\n" for k, v in values.items())


def _read_env_file(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


if __name__ == "__main__":  # python -m devtools.broker.secure compose-init /secure
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "compose-init":
        sys.exit("usage: python -m devtools.broker.secure compose-init <dir>")
    compose_init(Path(sys.argv[2]))
    print(f"prepared {sys.argv[2]} for docker-compose.secure.yml (secrets not shown)")
