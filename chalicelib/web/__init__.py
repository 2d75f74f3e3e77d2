"""The public incident page: HTML, JSON and Atom rendered from packaged content, with no AWS call."""

from chalicelib.web.http import Page, Request, base_path
from chalicelib.web.site import CONTENT_DIR, TEMPLATE_DIR, Site, load_site

__all__ = ["CONTENT_DIR", "TEMPLATE_DIR", "Page", "Request", "Site", "base_path", "load_site"]
