"""What an HTML page refers to: every href and src, by tag, read with the standard parser."""

from __future__ import annotations

from html.parser import HTMLParser

ASSET_TAGS = {"script", "link", "img", "iframe", "source", "object", "embed", "video", "audio"}


class References(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []  # (tag, url)
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.found.append((tag, value))

    @property
    def links(self) -> list[str]:
        return [url for tag, url in self.found if tag == "a"]

    @property
    def assets(self) -> list[str]:
        return [url for tag, url in self.found if tag in ASSET_TAGS]


def is_remote(url: str) -> bool:
    return url.lower().startswith(("http://", "https://", "//"))
