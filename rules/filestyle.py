"""A file's own YAML style, as its lines show it: what a fix's new lines follow."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class FileStyle:
    indent: int = 2  # columns per mapping level
    seq_offset: int = 2  # columns from a key to its sequence's "-" (0: indentless)
    quote: str = '"'


_QUOTED_VALUE = re.compile(r":\s+(['\"])")
_TRAILING_COMMENT = re.compile(r"\s+#.*$")


def detect_style(lines: list[str]) -> FileStyle:
    indents: Counter[int] = Counter()
    offsets: Counter[int] = Counter()
    quotes: Counter[str] = Counter()
    opener_col = None  # column of the last "key:" line that opens a block
    for raw in lines:
        text = raw.rstrip("\r\n")
        body = text.lstrip(" ")
        if not body or body.startswith("#") or body.startswith("---"):
            continue
        col = len(text) - len(body)
        if opener_col is not None:
            if body.startswith("- ") or body == "-":
                offsets[col - opener_col] += 1
            elif col > opener_col:
                indents[col - opener_col] += 1
        if "'" in body or '"' in body:  # (the searches are most of a file's reading)
            value = _QUOTED_VALUE.search(body)
            if value:
                quotes[value.group(1)] += 1
        stripped = _TRAILING_COMMENT.sub("", body) if "#" in body else body
        if stripped.endswith(":"):
            # the key's column: past any "- " item indicators before it
            key_body = body
            while key_body.startswith("- "):
                key_body = key_body[2:].lstrip(" ")
            opener_col = len(text) - len(key_body)
        else:
            opener_col = None
    indent = indents.most_common(1)[0][0] if indents else 2
    offset = offsets.most_common(1)[0][0] if offsets else indent
    quote = quotes.most_common(1)[0][0] if quotes else '"'
    return FileStyle(indent=max(indent, 1), seq_offset=max(offset, 0), quote=quote)
