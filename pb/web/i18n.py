"""Languages of the web pages: gettext catalogues (Babel), the request's locale, locale formatting.

Catalogues live in ``frontend/locales/<lang>/LC_MESSAGES/messages.po`` and are compiled in memory
at start-up (no build step, no committed binaries). The locale of the request being served is kept
in a ContextVar, so templates, views and the pure message helpers all read the same one.
Proposal texts are never translated: they stay in the language their author wrote.
"""

from __future__ import annotations

import gettext as gettext_module
import io
from contextvars import ContextVar
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent.parent / "frontend" / "locales"
DEFAULT_LANGUAGE = "en"
# Code -> the language's own name (shown in the switcher, never translated).
LANGUAGES = {"en": "English", "pl": "Polski", "de": "Deutsch", "fr": "Français", "es": "Español", "pt": "Português"}
LANGUAGE_COOKIE = "pb_lang"

_current: ContextVar[str] = ContextVar("pb_language", default=DEFAULT_LANGUAGE)


@lru_cache(maxsize=None)
def translations(language: str) -> gettext_module.NullTranslations:
    """The compiled catalogue of ``language`` (English is the source: no catalogue needed)."""
    path = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not path.exists():
        return gettext_module.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The chosen language (cookie) if known, else the best match of Accept-Language, else English."""
    if cookie in LANGUAGES:
        return cookie  # type: ignore[return-value]
    weighted = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((-quality, position, tag.strip().lower()))
    for _, _, tag in sorted(weighted):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def set_language(language: str) -> None:
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def gettext(message: str, **values: object) -> str:
    """Translate into the current language; ``values`` fill ``%(name)s`` placeholders."""
    text = translations(_current.get()).gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    text = translations(_current.get()).ngettext(singular, plural, n)
    return text % {"num": n, **values}


_ = gettext


def _locale() -> Locale:
    return Locale.parse(_current.get())


def format_money(minor_units: int | str, currency: str = "EUR") -> str:
    """Money is stored in minor units; shown in the reader's locale (e.g. 1 234,50 € in Polish)."""
    digits = numbers.get_currency_precision(currency)
    amount = Decimal(int(minor_units)).scaleb(-digits) if not isinstance(minor_units, str) or "/" not in minor_units \
        else Decimal(int(minor_units.split("/")[0])) / Decimal(int(minor_units.split("/")[1])) / (10 ** digits)
    return numbers.format_currency(amount, currency, locale=_locale())


def format_number(value: int | float) -> str:
    return numbers.format_decimal(value, locale=_locale())


def format_percent(value: float) -> str:
    return numbers.format_percent(value, locale=_locale())


def format_date(value: datetime | None) -> str:
    return dates.format_date(value, format="long", locale=_locale()) if value else ""


def format_datetime(value: datetime | None) -> str:
    return dates.format_datetime(value, format="medium", tzinfo=dates.UTC, locale=_locale()) + " UTC" \
        if value else ""
