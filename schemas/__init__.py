"""regbus event contract: pydantic models (in-process) and Avro schemas (wire).

Everything public in :mod:`schemas.models` is re-exported here, so ``from schemas import
ComplaintFiled`` and ``from schemas.models import ComplaintFiled`` both work.
"""

from __future__ import annotations

from schemas import models
from schemas.models import *  # noqa: F403  (the re-export is the point of this module)

__all__ = list(models.__all__)
