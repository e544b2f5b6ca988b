import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_message_has_a_chinese_translation():
    """The default language is Simplified Chinese: no message id may be left untranslated."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import i18n
    finally:
        sys.path.pop(0)
    missing = {pkg: i18n.missing(pkg) for pkg in i18n.PACKAGES}
    assert {k: v for k, v in missing.items() if v} == {}


def test_catalogues_cover_the_source(tmp_path):
    """Every translatable string in the source is in the package's catalogue (run `i18n.py update`)."""
    from babel.messages.pofile import read_po

    for package in ("lms", "courses", "competency", "supervision"):
        cfg = ROOT / "babel" / f"{package}.cfg"
        pot = tmp_path / f"{package}.pot"
        subprocess.run([str(Path(sys.executable).parent / "pybabel"), "extract", "-F", str(cfg), "-k", "_l",
                        "-k", "lazy_gettext", "-k", "ngettext:1,2", "--no-location", "-o", str(pot), str(ROOT)],
                       check=True, capture_output=True)
        with open(pot, "rb") as fh:
            source_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
        po = ROOT / package / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
        catalogue_ids = set()
        if po.exists():
            with open(po, "rb") as fh:
                catalogue_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
        assert source_ids - catalogue_ids == set(), package


def test_english_catalogues_show_the_english_ids():
    """English is the source language: an English catalogue must not carry (say, Chinese) strings."""
    from babel.messages.pofile import read_po

    for package in ("lms", "courses", "competency", "supervision"):
        po = ROOT / package / "translations" / "en" / "LC_MESSAGES" / "messages.po"
        with open(po, "rb") as fh:
            filled = [m.id for m in read_po(fh) if m.id and any(m.string if isinstance(m.string, tuple) else [m.string])]
        assert filled == [], (package, filled[:5])


def test_one_message_id_has_one_chinese_translation_across_packages():
    """Flask-Babel merges every package's catalogue into one: a message id translated differently in
    two packages shows one of them everywhere (a lesson read "已结业" once supervision said so).
    Where the meanings differ, use different message ids."""
    import json
    from collections import defaultdict

    seen: dict[str, dict[str, str]] = defaultdict(dict)
    for path in sorted(ROOT.glob("*/translations/zh/*.json")):
        for msgid, text in json.loads(path.read_text(encoding="utf-8")).items():
            seen[msgid][str(path.relative_to(ROOT))] = text
    divergent = {m: files for m, files in seen.items() if len(set(files.values())) > 1}
    assert divergent == {}
