"""Extract kehu's messages and merge them into the catalogs.

    python -m kehu.core.i18n.catalogs           # update messages.pot and every messages.po
    python -m kehu.core.i18n.catalogs --check   # exit 1 while a message lacks a translation

Messages are found in every Python module of the kehu package (``_``, ``N_``, ``gettext``,
``ngettext``: the pages' views and labels, each domain's message templates) and in every
``templates/**/*.html`` and ``*.j2`` (``_``, ``gettext``, ``ngettext``, ``{% trans %}``). New
messages arrive in ``zh_Hans/LC_MESSAGES/messages.po`` with an empty ``msgstr`` for a
translator; the English catalog gets the source text, which may then be reworded there.

The files are read as text; nothing of the package is imported, so the platform stays ignorant
of the domains and front doors whose words it stores.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.pofile import write_po
from jinja2.ext import babel_extract

from kehu.core.i18n import (
    CATALOG_DIR,
    DOMAIN,
    LOCALES,
    catalog_path,
    load_catalog,
    reload_catalogs,
    translated_ids,
)

#: The kehu package: the root of every source read.
PACKAGE_DIR = CATALOG_DIR.parents[1]
PYTHON_KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
TEMPLATE_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}
JINJA_OPTIONS = {
    "extensions": "jinja2.ext.i18n",
    "trim_blocks": "true",
    "lstrip_blocks": "true",
    "newstyle_gettext": "true",
    "silent": "false",
}
#: Fixed header dates keep the catalogs' diffs to real changes.
HEADER_DATE = datetime(2026, 1, 1, tzinfo=UTC)
POT_PATH = CATALOG_DIR / f"{DOMAIN}.pot"


def _sources() -> Iterator[tuple[Path, str]]:
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        yield path, "python"
    # the pages' templates (*.html) and the value report's (*.html.j2)
    for pattern in ("**/templates/**/*.html", "**/templates/**/*.j2"):
        for path in sorted(PACKAGE_DIR.glob(pattern)):
            yield path, "jinja"


def extract_messages() -> Catalog:
    """Every message kehu's pages and messages use, with where it is used."""
    catalog = Catalog(
        project="kehu",
        version="",
        domain=DOMAIN,
        creation_date=HEADER_DATE,
        revision_date=HEADER_DATE,
        msgid_bugs_address="",
        copyright_holder="kehu developers",
        fuzzy=False,
    )
    for path, kind in _sources():
        relative = path.relative_to(PACKAGE_DIR).as_posix()
        with path.open("rb") as handle:
            if kind == "python":
                found = extract("python", handle, keywords=PYTHON_KEYWORDS)
            else:
                found = extract(
                    cast(Any, babel_extract),
                    handle,
                    keywords=TEMPLATE_KEYWORDS,
                    options=JINJA_OPTIONS,
                )
            for lineno, message, comments, context in found:
                catalog.add(
                    message, locations=[(relative, lineno)], auto_comments=comments, context=context
                )
    return catalog


def _set_header(catalog: Catalog, language: str) -> None:
    catalog.project = "kehu"
    catalog.version = ""
    catalog.copyright_holder = "kehu developers"
    catalog.msgid_bugs_address = ""
    catalog.last_translator = "kehu developers"
    catalog.language_team = language
    catalog.creation_date = HEADER_DATE
    catalog.revision_date = HEADER_DATE
    catalog.fuzzy = False
    catalog.header_comment = (
        "# Messages of kehu's pages, e-mails and texts"
        + (f": {language}" if language else " (template)")
        + ".\n# Update with `python -m kehu.core.i18n.catalogs`; see kehu/core/i18n/__init__.py."
    )


def _fill_english(catalog: Catalog) -> None:
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            if not all(message.string or ()):
                message.string = tuple(message.id)
        elif not message.string:
            message.string = message.id


def update_catalogs() -> list[Path]:
    """Write ``messages.pot`` and merge it into every language's ``messages.po``."""
    template = extract_messages()
    written = [POT_PATH]
    _set_header(template, "")
    with POT_PATH.open("wb") as handle:
        write_po(handle, template, width=100, include_lineno=False, omit_header=False)
    for code, info in LOCALES.items():
        path = catalog_path(code)
        if path.exists():
            catalog = load_catalog(code)
        else:
            catalog = Catalog(locale=info.babel, domain=DOMAIN, project="kehu", fuzzy=False)
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
        _set_header(catalog, f"{info.babel_locale.display_name} ({info.code})")
        if code == "en":
            _fill_english(catalog)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, include_lineno=False, ignore_obsolete=True)
        written.append(path)
    reload_catalogs()
    return written


def catalog_problems() -> dict[str, list[str]]:
    """Per language: messages the code uses that its catalog lacks or leaves untranslated, and
    catalog entries the code no longer uses. Empty lists everywhere: complete."""
    used = {m.id if isinstance(m.id, str) else m.id[0] for m in extract_messages() if m.id}
    problems: dict[str, list[str]] = {}
    for code in LOCALES:
        catalog = load_catalog(code)
        present = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
        done = translated_ids(catalog)
        issues = [f"missing from the catalog: {m!r}" for m in sorted(used - present)]
        issues += [f"not translated: {m!r}" for m in sorted((used & present) - done)]
        issues += [f"no longer used: {m!r}" for m in sorted(present - used)]
        problems[code] = issues
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kehu.core.i18n.catalogs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report, exit 1 on a problem")
    args = parser.parse_args(argv)
    if not args.check:
        for path in update_catalogs():
            print(f"wrote {path}")
    failed = False
    for code, issues in catalog_problems().items():
        for issue in issues:
            failed = True
            print(f"{code}: {issue}")
    return 1 if failed and args.check else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
