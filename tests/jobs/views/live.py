"""Reading a list page's live channel (jobs/views/mirror.py) the way htmx does: the #live
element of a page, and its next answer."""

from __future__ import annotations

import re
from html import unescape


def live_element(html: str) -> str:
    return re.search(r'<div id="live"[^>]*>', html).group(0)


def live_url(html: str) -> str:
    return unescape(re.search(r'hx-get="([^"]+)"', live_element(html)).group(1))


def is_active(html: str) -> bool:
    return "data-live-active" in live_element(html)


def poll(client, html: str):
    """The live channel's next answer for a page (or a previous answer) `html`."""
    return client.get(live_url(html), headers={"HX-Request": "true"})


def oob_row(html: str, resource_id: str) -> str | None:
    match = re.search(rf'<tr id="job-{resource_id}"[^>]*>', html)
    return match.group(0) if match else None
