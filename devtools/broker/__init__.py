"""The project's own Apache Kafka broker: fetched from Maven Central, run by a local JVM."""

from devtools.broker.launcher import (
    BrokerError,
    BrokerLauncher,
    BrokerStatus,
    broker_settings,
)

__all__ = ["BrokerError", "BrokerLauncher", "BrokerStatus", "broker_settings"]
