"""Translation catalogues, one per package (lms, courses, competency, supervision, creditbank).

    python scripts/i18n.py update [PACKAGE...]   extract strings, merge into zh_CN and en catalogues,
                                                 and fill zh_CN from <package>/translations/zh/*.json
    python scripts/i18n.py missing [PACKAGE...]  list zh_CN entries without a translation (exit 1 if any)
    python scripts/i18n.py fill PACKAGE FILE.json  set zh_CN translations from {"msgid": "译文"}
    python scripts/i18n.py compile               compile every catalogue to .mo

Chinese translations are kept as JSON files ``{"English msgid": "中文"}`` under
``<package>/translations/zh/`` (one file per area, so several people can add strings at once);
``update`` writes them into the zh_CN catalogue. Message ids are English; ``zh_CN`` (the default language) must translate every one. ``en`` keeps
empty translations, so the English ids show.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("lms", "courses", "competency", "supervision", "creditbank")
LOCALES = ("zh_Hans_CN", "en")  # Babel parses zh_CN as zh_Hans_CN; gettext looks for that folder


def _po_path(package: str, locale: str) -> str:
    return os.path.join(ROOT, package, "translations", locale, "LC_MESSAGES", "messages.po")


def _read(path: str, locale: str):
    from babel.messages.catalog import Catalog

    if not os.path.exists(path):
        return Catalog(locale=locale)
    with open(path, "rb") as fh:
        return read_po(fh, locale=locale)


def _write(path: str, catalog) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        write_po(fh, catalog, omit_header=False, sort_output=True, width=120, include_previous=False,
                 no_location=True)


def update(package: str) -> None:
    pot = os.path.join(ROOT, package, "translations", "messages.pot")
    os.makedirs(os.path.dirname(pot), exist_ok=True)
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "pybabel"), "extract", "-F",
                    os.path.join(ROOT, "babel", f"{package}.cfg"), "-k", "_l", "-k", "lazy_gettext",
                    "-k", "ngettext:1,2", "--no-location", "--sort-output", "-o", pot, ROOT],
                   check=True, capture_output=True)
    for locale in LOCALES:
        # Read the template afresh for each locale: Catalog.update() adopts the template's message
        # objects, so filling one locale's strings would otherwise leak into the next.
        with open(pot, "rb") as fh:
            template = read_po(fh)
        path = _po_path(package, locale)
        catalog = _read(path, locale)
        catalog.update(template, no_fuzzy_matching=True)
        if locale == "en":
            for msg in catalog:  # English ids are the English text
                if msg.id:
                    msg.string = ("", "") if isinstance(msg.id, tuple) else ""
        for msg in catalog:
            msg.flags.discard("fuzzy")
        catalog.obsolete.clear()
        if locale != "en":
            table = _json_sources(package)
            for msg in catalog:
                key = msg.id[0] if isinstance(msg.id, tuple) else msg.id
                if key in table:
                    msg.string = tuple([table[key]] * 2) if isinstance(msg.id, tuple) else table[key]
        _write(path, catalog)


def _json_sources(package: str) -> dict[str, str]:
    folder = os.path.join(ROOT, package, "translations", "zh")
    table: dict[str, str] = {}
    if os.path.isdir(folder):
        for name in sorted(os.listdir(folder)):
            if name.endswith(".json"):
                with open(os.path.join(folder, name), encoding="utf-8") as fh:
                    table.update(json.load(fh))
    return table


def missing(package: str) -> list[str]:
    catalog = _read(_po_path(package, "zh_Hans_CN"), "zh_Hans_CN")
    out = []
    for msg in catalog:
        if not msg.id:
            continue
        if isinstance(msg.id, tuple):
            if not all(msg.string):
                out.append(msg.id[0])
        elif not msg.string:
            out.append(msg.id)
    return out


def fill(package: str, json_path: str) -> None:
    with open(json_path, encoding="utf-8") as fh:
        table = json.load(fh)
    path = _po_path(package, "zh_Hans_CN")
    catalog = _read(path, "zh_Hans_CN")
    for msg in catalog:
        key = msg.id[0] if isinstance(msg.id, tuple) else msg.id
        if key in table:
            msg.string = tuple([table[key]] * 2) if isinstance(msg.id, tuple) else table[key]
    _write(path, catalog)


def compile_all() -> None:
    for package in PACKAGES:
        for locale in LOCALES:
            path = _po_path(package, locale)
            if not os.path.exists(path):
                continue
            catalog = _read(path, locale)
            with open(path[:-3] + ".mo", "wb") as fh:
                write_mo(fh, catalog)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "update":
        for package in args or PACKAGES:
            update(package)
    elif cmd == "missing":
        bad = 0
        for package in args or PACKAGES:
            for msgid in missing(package):
                print(f"{package}: {msgid}")
                bad += 1
        return 1 if bad else 0
    elif cmd == "fill":
        fill(args[0], args[1])
    elif cmd == "compile":
        compile_all()
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
