"""Languages: Flask-Babel with ``zh_CN`` as default and ``en``; every package has its catalogue.

Locale choice, first match wins: the ``lang`` query parameter (remembered in the session), the
logged-in user's preference, the session, the browser's ``Accept-Language``, the default.
"""
from __future__ import annotations

import os

from flask import request, session
from flask_babel import Babel
from flask_babel.speaklater import LazyString
from markupsafe import escape
from flask_login import current_user

babel = Babel()


def _escaped_html(self) -> str:
    """A lazy translation as HTML: its text escaped, placeholders included."""
    return str(escape(str(self)))


# Flask-Babel's LazyString declares ``__html__`` as its plain text, so Jinja (and the session's
# flash serializer) take ``lazy_gettext("... %(name)s", name=<user text>)`` for safe markup and
# render the user's text unescaped. Every lazy message of the platform (flashes, form errors,
# domain errors) is plain text; as HTML it is escaped, here, once for all of them. ``str()`` of it
# (JSON errors, logs) is unchanged.
LazyString.__html__ = _escaped_html

CORE_TRANSLATIONS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "translations")


def select_locale() -> str:
    from flask import current_app

    languages = current_app.config["LMS_LANGUAGES"]
    if not request:
        return languages[0]
    asked = request.args.get("lang")
    if asked in languages:
        session["lang"] = asked
        return asked
    if session.get("lang") in languages:
        return session["lang"]
    user = current_user
    if getattr(user, "is_authenticated", False) and getattr(user, "locale", "") in languages:
        return user.locale
    # Browsers send zh-CN; Babel's matcher wants the same separator on both sides.
    offered = [lang.replace("_", "-") for lang in languages]
    best = request.accept_languages.best_match(offered, default=None)
    if best:
        return best.replace("-", "_")
    return languages[0]


def init_app(app) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = CORE_TRANSLATIONS
    babel.init_app(app, locale_selector=select_locale)
    # Templates call gettext a few dozen times per page; look the catalogue up once per request.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _request_translations().ugettext(s),
        ngettext=lambda s, p, n: _request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: _request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )

    @app.before_request
    def _fresh_locale():
        # The locale is cached on ``g``; an app context reused across requests (the test
        # client inside a test's app context) must not keep the previous request's choice.
        from flask_babel import refresh

        refresh()

    @app.context_processor
    def _languages():
        from flask_babel import get_locale

        return {"lms_languages": app.config["LMS_LANGUAGES"], "current_locale": locale_code(get_locale())}


def _request_translations():
    """The catalogue of the current locale, kept for the rest of the request.

    Kept in Flask-Babel's own ``babel_translations`` slot, which its ``refresh()`` clears and its
    ``force_locale()`` resets and restores, so a change of locale is never missed.
    """
    from flask_babel import _get_current_context, get_translations

    ctx = _get_current_context()
    if ctx is None:
        return get_translations()
    translations = getattr(ctx, "babel_translations", None)
    if translations is None:
        translations = ctx.babel_translations = get_translations()
    return translations


def locale_code(locale) -> str:
    """``zh_CN`` or ``en`` for a Babel locale (``zh_Hans_CN`` prints oddly in ``lang``)."""
    if locale is None:
        return "zh_CN"
    return "zh_CN" if locale.language == "zh" else locale.language


def add_translation_directory(app, path: str) -> None:
    app.extensions["babel"].translation_directories.append(path)
