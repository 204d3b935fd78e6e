"""File responses for downloads (Excel exports, templates, attachments)."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response


def file_response(content: bytes, filename: str, content_type: str, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    response = Response(content, mimetype=content_type)
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(filename)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
