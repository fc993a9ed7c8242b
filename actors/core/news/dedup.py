"""What makes two headlines the same article: the URL, or the normalized title.

The same story syndicated under several URLs keeps its title; the normalized title folds case,
accents, punctuation and whitespace, so "Apple beats estimates!" and "apple  beats estimates"
are one article. The stored key is a SHA-256 of the normalized title (fixed size, indexable).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = ["normalize_title", "title_hash", "normalize_url"]

_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)


def normalize_title(title: str) -> str:
    """Lower case, accents and punctuation dropped, runs of spaces made one: the title's identity."""
    if title.isascii():  # the common case: nothing to decompose
        return " ".join(_NOT_WORD.sub(" ", title.lower()).split())
    decomposed = unicodedata.normalize("NFKD", title)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", plain.casefold()).split())


def title_hash(title: str) -> str:
    """SHA-256 (hex) of :func:`normalize_title`."""
    return hashlib.sha256(normalize_title(title).encode("utf-8")).hexdigest()


def normalize_url(url: str | None) -> str | None:
    """The URL as stored for dedup: stripped, without a trailing fragment; None when empty."""
    if url is None:
        return None
    url = url.strip().split("#", 1)[0]
    return url or None
