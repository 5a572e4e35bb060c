"""The Jinja environment of the pages: gettext (per-request language), locale filters, globals."""

from __future__ import annotations

from litestar.plugins.jinja import JinjaTemplateEngine

from pb.web import i18n
from pb.web.labels import TEMPLATE_GLOBALS

HTMX = "/static/vendor/htmx-2.0.11.min.js"  # pinned; version and checksum in frontend/static/vendor/VENDORED.md


def _gettext(message: str, **values: object) -> str:
    return i18n.gettext(message, **values)


def _ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    return i18n.ngettext(singular, plural, n, **values)


def configure_templates(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.filters.update({
        "money": i18n.format_money,
        "number": i18n.format_number,
        "percent": i18n.format_percent,
        "date": i18n.format_date,
        "datetime": i18n.format_datetime,
    })
    env.globals.update({
        "LANGUAGES": i18n.LANGUAGES,
        "current_language": i18n.current_language,
        "HTMX": HTMX,
        **TEMPLATE_GLOBALS,
    })
