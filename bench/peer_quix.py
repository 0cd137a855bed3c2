"""The quixstreams peer: decode, per-case state, per-platform count; run in ``.venv-quix``.

quixstreams 3.28.1 pins pydantic < 2.14 and confluent-kafka < 2.13, which regbus's own pins
exclude, so it runs in its own virtualenv (``make bench`` builds it) and imports nothing from
regbus: ``python bench/peer_quix.py BOOTSTRAP TOPIC GROUP N SCHEMAS.json STATE_DIR`` prints
one JSON line ``{"events": …, "seconds": …}``, timed from the first record to the end of the
run, its final checkpoint (state flush + commit) included.
"""

from __future__ import annotations

import io
import json
import sys
import time
from typing import Any


def main(argv: list[str]) -> None:
    from fastavro import parse_schema, schemaless_reader
    from quixstreams import Application
    from quixstreams.models.serializers import Deserializer

    bootstrap, topic_name, group, n_text, schemas_path, state_dir = argv
    n = int(n_text)
    with open(schemas_path) as fh:
        schemas = {int(k): parse_schema(v, named_schemas={}) for k, v in json.load(fh).items()}

    class ConfluentAvro(Deserializer):  # type: ignore[misc]
        def __call__(self, value: bytes, ctx: Any) -> Any:
            body = io.BytesIO(value)
            body.seek(5)
            return schemaless_reader(body, schemas[int.from_bytes(value[1:5], "big")], None)

    app = Application(
        broker_address=bootstrap, consumer_group=group, auto_offset_reset="earliest",
        state_dir=state_dir, loglevel="WARNING", use_changelog_topics=True,
    )  # fmt: skip
    topic = app.topic(topic_name, value_deserializer=ConfluentAvro(), key_deserializer="bytes")
    platforms: dict[str, int] = {}
    seen = [0, 0.0]

    def fold(value: dict[str, Any], state: Any) -> None:
        if seen[0] == 0:
            seen[1] = time.perf_counter()
        seen[0] += 1
        case = value.get("case_id")
        if case:
            state.set("last", value.get("event_id"))
            platform = str(value.get("platform_id"))
            platforms[platform] = platforms.get(platform, 0) + 1
        if seen[0] >= n:
            app.stop()

    sdf = app.dataframe(topic)
    sdf.update(fold, stateful=True)
    app.run()
    took = time.perf_counter() - seen[1]
    print(json.dumps({"events": seen[0], "seconds": took, "platforms": len(platforms)}))


if __name__ == "__main__":
    main(sys.argv[1:])
