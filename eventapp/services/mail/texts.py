"""Mail texts: templates in templates/email/ rendered in the addressee's language.

A worker renders hundreds of mails in a row, a few languages over and over. Each language gets
a template environment of its own, made once from the app's (same loader, filters, globals and
settings) with that language's translations bound to it, so a text's phrases are looked up
directly instead of finding the language's catalogue again for every phrase.
"""

from __future__ import annotations

from typing import Any

import jinja2
from flask import Flask, current_app, template_rendered
from flask_babel import force_locale, get_translations


def render(template: str, language: str, **context: Any) -> str:
    """Render a mail text template in a language (dates and filters follow it as well)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    loaded = _environment(app, language).get_template(template)
    with force_locale(language):
        text = loaded.render(context)
    template_rendered.send(app, _async_wrapper=app.ensure_sync, template=loaded, context=context)
    return text


def _environment(app: Flask, language: str) -> jinja2.Environment:
    """Return the template environment for mails in one language (made once per app)."""
    environments: dict[str, jinja2.Environment] = app.extensions.setdefault("mail_texts", {})
    environment = environments.get(language)
    if environment is None:
        environment = environments.setdefault(language, _made_for(app, language))
    return environment


def _made_for(app: Flask, language: str) -> jinja2.Environment:
    """Make an environment like the app's whose translations are those of one language."""
    source = app.jinja_env
    # autoescape is the app's own choice (HTML escaped, text not), which bandit cannot read.
    environment = jinja2.Environment(  # nosec B701
        loader=source.loader,
        extensions=["jinja2.ext.i18n"],
        autoescape=source.autoescape,  # noqa: S701 - the app's choice: HTML escaped, text not
        undefined=source.undefined,
        finalize=source.finalize,
        trim_blocks=source.trim_blocks,
        lstrip_blocks=source.lstrip_blocks,
        newline_sequence=source.newline_sequence,
        keep_trailing_newline=source.keep_trailing_newline,
        auto_reload=source.auto_reload,
    )
    environment.filters.update(source.filters)
    environment.tests.update(source.tests)
    environment.globals.update(source.globals)
    environment.policies.update(source.policies)
    with force_locale(language):
        translations = get_translations()
    install = environment.install_gettext_translations  # type: ignore[attr-defined]
    install(translations, newstyle=True)
    return environment
