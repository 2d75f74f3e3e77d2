"""Compile the page templates into chalicelib/templates/_compiled/ before `chalice package` (see site.py).

    python -m notis_cli.precompile
"""

from __future__ import annotations

import shutil

from chalicelib.web.site import COMPILED_DIR, TEMPLATE_DIR, PackagedBytecodeCache, Site, load_site


def main() -> int:
    shutil.rmtree(COMPILED_DIR, ignore_errors=True)
    incidents = load_site().incidents
    site = Site(incidents, cache=PackagedBytecodeCache(COMPILED_DIR, writable=True))
    names = sorted(p.relative_to(TEMPLATE_DIR).as_posix() for p in (TEMPLATE_DIR / "page").glob("*.html"))
    for name in names:
        site.env.get_template(name)
    print(f"compiled {len(names)} page templates into {COMPILED_DIR.relative_to(TEMPLATE_DIR.parent.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
