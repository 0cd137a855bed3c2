"""One message catalogue (gettext via Babel) for everything a regulator reads.

The message ids are English; ``locale/zh_CN/LC_MESSAGES/messages.po`` carries the Simplified
Chinese, the default language. The ``.po`` file is the source of truth and is compiled in
memory on first use (a stale or missing ``.mo`` cannot show old words). The console, the CLI's
human output and the audit report call :func:`translate` / :func:`translator`.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT_LANG = "zh-CN"
LANGS = ("zh-CN", "en")

__all__ = ["DEFAULT_LANG", "LANGS", "normalise", "translate", "translator"]


def normalise(lang: str | None) -> str:
    """``zh-CN`` or ``en`` from what a user or a browser gave; the default otherwise."""
    if not lang:
        return DEFAULT_LANG
    low = lang.strip().lower().replace("_", "-")
    if low.startswith("en"):
        return "en"
    return DEFAULT_LANG


@cache
def translator(lang: str) -> NullTranslations:
    """The gettext translations for ``lang`` (English is the message ids themselves)."""
    if normalise(lang) == "en":
        return NullTranslations()
    po = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def translate(message: str, lang: str = DEFAULT_LANG) -> str:
    return translator(normalise(lang)).gettext(message)
