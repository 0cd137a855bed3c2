"""The regbus simulator: a seeded, time-ordered stream of everything the system carries.

::

    from devtools.simulator import SimConfig, Simulation

    alerts = []
    sim = Simulation(SimConfig(seed=8, platforms=5, days=30), sink=alerts.append)
    for item in sim:          # Send(...) and Tick(...) in publishing order
        ...
    sim.outcome.to_json()     # the expected outcome, from the simulator's own bookkeeping

:func:`publish_simulation` publishes a run to a live system (platform events through the SDK,
bureau events to the bureau ingress, ticks into every case partition, in time slices);
:func:`write_ndjson` writes it as files. See docs/demo.md.
"""

from devtools.simulator.config import DEFAULT_SEED, DEFAULT_START, SimConfig
from devtools.simulator.files import read_expected_alerts, write_ndjson
from devtools.simulator.generator import Simulation
from devtools.simulator.model import ExpectedAlert, RawRecord, Send, Sender, SimItem, Tick
from devtools.simulator.outcome import ExpectedOutcome
from devtools.simulator.platforms import Line, Profile, SimPlatform, roster
from devtools.simulator.publish import PublishStats, prepare, publish_simulation
from devtools.simulator.watch import Comparison, SystemWatch, compare

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_START",
    "Comparison",
    "ExpectedAlert",
    "ExpectedOutcome",
    "Line",
    "Profile",
    "PublishStats",
    "RawRecord",
    "Send",
    "Sender",
    "SimConfig",
    "SimItem",
    "SimPlatform",
    "Simulation",
    "SystemWatch",
    "Tick",
    "compare",
    "prepare",
    "publish_simulation",
    "read_expected_alerts",
    "roster",
    "write_ndjson",
]
