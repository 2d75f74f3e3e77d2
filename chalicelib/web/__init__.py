"""The public incident page: HTML, JSON and Atom rendered from packaged content, with no AWS call."""

from chalicelib.content.published import CONTENT_DIR
from chalicelib.web.http import Page, Request, base_path
from chalicelib.web.site import TEMPLATE_DIR, Site, load_site

__all__ = ["CONTENT_DIR", "TEMPLATE_DIR", "Page", "Request", "Site", "base_path", "load_site"]
