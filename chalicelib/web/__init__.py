"""The public incident page: HTML, JSON and Atom rendered from packaged content, with no AWS call.

Names are looked up on first use (PEP 562): the deployed page handler (prebuilt.py) imports a module of this
package without loading the renderer (Jinja, YAML, Markdown) that the names below bring.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing itself costs 15 ms of cold start; type checkers read this as typing's
if TYPE_CHECKING:
    from typing import Any

    from chalicelib.content.published import CONTENT_DIR
    from chalicelib.web.http import Page, Request
    from chalicelib.web.site import TEMPLATE_DIR, Site, load_site
    from chalicelib.web.wire import base_path

__all__ = ["CONTENT_DIR", "TEMPLATE_DIR", "Page", "Request", "Site", "base_path", "load_site"]
_HOME = {
    "CONTENT_DIR": "chalicelib.content.published", "TEMPLATE_DIR": "chalicelib.web.site", "Site": "chalicelib.web.site",
    "load_site": "chalicelib.web.site", "Page": "chalicelib.web.http", "Request": "chalicelib.web.http",
    "base_path": "chalicelib.web.wire",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = getattr(importlib.import_module(_HOME[name]), name)  # looked up once
    return value
