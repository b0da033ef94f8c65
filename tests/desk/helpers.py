import html
import re


def text_of(response) -> str:
    """The page's text without tags, whitespace collapsed: what a reader sees."""
    page = response.content.decode()
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
