"""Turn a posted HTML form into the data dict that a form-js definition validates.

Browsers send every value as text, omit unchecked boxes and send several values under one
name for checklists; marshmallow then validates the result exactly as for the JSON API.
"""
from __future__ import annotations

from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict

from engine.forms import FormDefinition

MULTI = {"checklist", "taglist", "filepicker"}  # a filepicker posts the ids of the files it keeps


def form_data(form: FormDefinition | None, posted: MultiDict) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in form.fields if form else []:
        if field.type in MULTI:
            data[field.key] = posted.getlist(field.key)
        elif field.type == "checkbox":
            data[field.key] = posted.get(field.key) == "true"
        else:
            value = posted.get(field.key, "").strip()
            data[field.key] = value if value != "" else None
    return {key: value for key, value in data.items() if value is not None}


def kept_values(form: FormDefinition | None, posted: MultiDict) -> dict[str, Any]:
    """What the user typed, to show again after an error (lists for multi-valued fields)."""
    values: dict[str, Any] = {}
    for field in form.fields if form else []:
        values[field.key] = posted.getlist(field.key) if field.type in MULTI else posted.get(field.key, "")
    return values


def uploads(form: FormDefinition | None, files: MultiDict[str, FileStorage]) -> dict[str, list[tuple[str, bytes]]]:
    """The files posted for the form's material (filepicker) fields: key → [(file name, bytes)]. The
    request's size cap (``MAX_CONTENT_LENGTH``) bounds what is read."""
    return {field.key: [(item.filename or "", item.read()) for item in files.getlist(field.key) if item.filename]
            for field in (form.fields if form else []) if field.type == "filepicker"}
