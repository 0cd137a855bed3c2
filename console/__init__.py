"""The bureau's web console: a zh-CN application on a read model of the topics.

See docs/console.md. :mod:`console.readmodel` (the SQLite read model), :mod:`console.feed`
(the consumer feeding it, and the writer of the console's own facts), :mod:`console.web` and
:mod:`console.views` (the pages), :mod:`console.i18n` (the one message catalogue).
"""

from console.i18n import translate
from console.readmodel import ReadModel, SqliteReadModel

__all__ = ["ReadModel", "SqliteReadModel", "translate"]
