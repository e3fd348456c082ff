"""Screenshots for people to look at: written only when SCREENSHOT_DIR is set (somewhere
under /tmp), so test runs leave nothing behind by default."""

from __future__ import annotations

import os
from pathlib import Path


def shot(page, name: str, *, full_page: bool = True) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    # caret="initial": hiding the caret would inject a <style> that the CSP refuses.
    page.screenshot(path=f"{folder}/{name}.png", full_page=full_page, caret="initial")
    if full_page:
        page.screenshot(path=f"{folder}/{name}-top.png", caret="initial")
