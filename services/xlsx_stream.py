"""A streaming reader of one worksheet of an .xlsx file, for large uploads.

openpyxl's read-only mode builds a Python object per cell (and parses each inline string through
its descriptor machinery), which reads about 3,000 rows a second — a 100,000-person declaration
would spend half a minute there. This reader streams the sheet's XML through expat (a DOCTYPE is
refused, so no entity is ever declared or expanded; nothing is fetched), resolves shared strings
(read with lxml, entities and network off), and yields plain values row by row, so memory stays
flat. It never evaluates anything: a cell holding a formula comes back as a :class:`Formula`.
"""
from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from typing import IO, Any
from xml.parsers import expat

from lxml import etree

MAIN_URI = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
MAIN = f"{{{MAIN_URI}}}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
TAGS = {f"{MAIN_URI} {tag}": tag for tag in ("row", "c", "v", "t", "f")}  # expat names: "<uri> <local>"
SAFE = {"resolve_entities": False, "no_network": True, "huge_tree": False, "load_dtd": False}


class WorkbookError(Exception):
    """The file is not a readable .xlsx workbook."""


class Formula(str):
    """The text of a formula found in a cell (never evaluated)."""


def _parse(stream: IO[bytes]) -> etree._Element:
    return etree.parse(stream, etree.XMLParser(**SAFE)).getroot()


def _sheet_path(archive: zipfile.ZipFile, preferred: str) -> str:
    with archive.open("xl/workbook.xml") as stream:
        sheets = [(s.get("name"), s.get(f"{REL}id")) for s in _parse(stream).iter(f"{MAIN}sheet")]
    with archive.open("xl/_rels/workbook.xml.rels") as stream:
        targets = {r.get("Id"): r.get("Target") for r in _parse(stream).iter(f"{PACKAGE_REL}Relationship")}
    if not sheets:
        raise WorkbookError("no sheet")
    rel_id = next((rid for name, rid in sheets if name == preferred), sheets[0][1])
    target = targets[rel_id]
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    strings = []
    with archive.open("xl/sharedStrings.xml") as stream:
        for _event, item in etree.iterparse(stream, tag=f"{MAIN}si", **SAFE):
            strings.append("".join(t.text or "" for t in item.iter(f"{MAIN}t")))
            item.clear()
    return strings


def _column(reference: str, cache: dict[str, int]) -> int:
    """'E12' → 4 (zero-based), cached by the column letters."""
    letters = reference.rstrip("0123456789")
    index = cache.get(letters)
    if index is None:
        index = 0
        for char in letters:
            index = index * 26 + ord(char.upper()) - 64
        index = cache[letters] = index - 1
    return index


def _number(raw: str) -> int | float:
    try:
        return int(raw)
    except ValueError:
        return float(raw)


class _Sheet:
    """expat handlers collecting finished rows; expat is the fastest XML parser in the standard
    library, and SAX-style handlers keep only the current row in memory."""

    def __init__(self, shared: list[str]):
        self.shared = shared
        self.rows: list[tuple[int, tuple[Any, ...]]] = []
        self.columns: dict[str, int] = {}
        self.number = 0
        self.values: list[Any] = []
        self.kind: str | None = None
        self.reference: str | None = None
        self.parts: list[str] = []
        self.text: list[str] | None = None
        self.formula: str | None = None
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.characters
        self.parser.StartDoctypeDeclHandler = self.refuse_doctype

    @staticmethod
    def refuse_doctype(*_args) -> None:
        raise WorkbookError("DOCTYPE is not allowed")

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = TAGS.get(name)
        if tag == "c":
            self.kind, self.reference = attrs.get("t"), attrs.get("r")
            self.parts, self.formula = [], None
        elif tag in ("v", "t", "f"):
            self.text = []
        elif tag == "row":
            self.number = int(attrs.get("r") or self.number + 1)
            self.values = []

    def characters(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def end(self, name: str) -> None:
        tag = TAGS.get(name)
        if tag in ("v", "t"):
            self.parts.append("".join(self.text or ()))
            self.text = None
        elif tag == "f":
            self.formula = "".join(self.text or ())
            self.text = None
        elif tag == "c":
            column = _column(self.reference, self.columns) if self.reference else len(self.values)
            if column >= len(self.values):
                self.values.extend([None] * (column - len(self.values) + 1))
            self.values[column] = self.value()
        elif tag == "row":
            self.rows.append((self.number, tuple(self.values)))

    def value(self) -> Any:
        if self.formula is not None:
            return Formula("=" + self.formula)
        kind, raw = self.kind, "".join(self.parts)
        if kind == "inlineStr" or kind in ("str", "e", "d"):
            return raw
        if not self.parts:
            return None
        if kind == "s":
            return self.shared[int(raw)]
        if kind == "b":
            return raw == "1"
        return _number(raw)


def iter_rows(archive: zipfile.ZipFile, preferred_sheet: str) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number, values) of each row of the preferred sheet (or the first one)."""
    try:
        path = _sheet_path(archive, preferred_sheet)
        sheet = _Sheet(_shared_strings(archive))
        with archive.open(path) as stream:
            while True:
                block = stream.read(1 << 16)
                sheet.parser.Parse(block, not block)
                yield from sheet.rows
                sheet.rows.clear()
                if not block:
                    break
    except (KeyError, ValueError, IndexError, expat.ExpatError, etree.XMLSyntaxError,
            zipfile.BadZipFile) as error:
        raise WorkbookError(str(error)) from None
