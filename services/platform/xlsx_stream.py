"""A streaming reader of one worksheet of an .xlsx file, for large uploads.

openpyxl's read-only mode builds a Python object per cell (and parses each inline string through
its descriptor machinery), which reads about 3,000 rows a second — a 100,000-person declaration
would spend half a minute there. This reader streams the sheet's XML through expat (a DOCTYPE is
refused, so no entity is ever declared or expanded; nothing is fetched), resolves shared strings
(streamed the same way, only as far as the sheet refers to them), and yields
plain values row by row, so memory stays flat. It never evaluates anything: a cell holding a
formula comes back as a :class:`Formula`.

**Work is bounded while it is done, not by what the package declares.** A zip directory's sizes
are written by whoever made the file, so every part is metered as it is inflated: the bytes of all
parts read together, the XML elements (each costs a call into Python: the best measure of the
parser's work), rows, cells and shared strings (their number and total length), and the shape of
the XML — nesting depth, the bytes between two ``<`` (one tag with its attributes, or one run of
text: a huge attribute value or cell text, which expat would otherwise buffer whole and rescan on
every block), one cell's text. workbook.xml and its relationships, read with lxml (entities and
network off), may not exceed ``part_kb``. The first cap passed stops the read with
:class:`LimitExceeded`, whose message names the cap (:class:`Limits`; the defaults and how they
were measured are in the README). ``heartbeat`` is called after every block of inflated XML, so
that a job reading a workbook can report progress, notice a cancel and keep its time limit
however the workbook is shaped (one huge row, rows without numbers, a huge shared-strings table).
"""
from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from typing import IO, Any
from xml.parsers import expat

from lxml import etree

MAIN_URI = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
MAIN = f"{{{MAIN_URI}}}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
TAGS = {f"{MAIN_URI} {tag}": tag for tag in ("row", "c", "v", "t", "f")}  # expat names: "<uri> <local>"
SHARED_TAGS = {f"{MAIN_URI} {tag}": tag for tag in ("si", "t", "rPh")}
SAFE = {"resolve_entities": False, "no_network": True, "huge_tree": False, "load_dtd": False}
MiB = 1024 * 1024
BLOCK = 1 << 16
MAX_COLUMNS = 16_384  # Excel's last column is XFD


@dataclass(frozen=True)
class Limits:
    """Caps on the work of reading one workbook. A 100,000-person declaration written by the
    import benchmark inflates to 45.7 MB with 2,200,032 elements, 700,007 cells and 100,001 rows;
    the defaults leave it a margin of 2 to 2.9 (README, "Security model → workbook imports")."""

    inflated_mb: int = 128  # every part read, counted as it is inflated
    elements: int = 6_000_000  # XML elements of the sheet and the shared strings
    rows: int = 200_000  # as far as the template's dropdowns reach: the header and 199,999 data rows
    cells: int = 2_000_000
    shared_strings: int = 1_000_000
    shared_chars: int = 20_000_000  # the shared strings' total length
    cell_chars: int = 32_767  # one cell's text (Excel's own limit)
    token_kb: int = 256  # bytes between two '<': one tag with its attributes, or one run of text
    depth: int = 64  # element nesting (a sheet needs 7)
    part_kb: int = 1024  # workbook.xml and its relationships

    @property
    def inflated_bytes(self) -> int:
        return self.inflated_mb * MiB


class WorkbookError(Exception):
    """The file is not a readable .xlsx workbook."""


class LimitExceeded(WorkbookError):
    """The workbook needs more work than a cap allows; ``message`` says which, in Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Formula(str):
    """The text of a formula found in a cell (never evaluated)."""


class _SharedRef(int):
    """A cell's index into the shared strings, resolved when its row is handed out: a caller that
    stops after the header never reads the table further than the header needs."""


def _amount(n: int) -> str:
    """2000000 → '200 万' (how the caps are stated to users)."""
    return f"{n // 10_000} 万" if n >= 10_000 and n % 10_000 == 0 else str(n)


SPLIT = "，请拆分后分批上传"
PATHOLOGICAL = "工作簿结构异常（{}），请使用下载的模板重新填写"


class Meter:
    """The work done on one workbook so far, against its :class:`Limits`. The parsers count
    elements, rows and cells in their handlers and hand the counts over after each block of XML (a
    method call per element would cost a tenth of the parse); a block holds at most 64 KB, so a
    count overshoots its cap by a block at most before the read stops."""

    def __init__(self, limits: Limits, heartbeat: Callable[[], None] | None = None):
        self.limits = limits
        self.heartbeat = heartbeat
        self.inflated = self.elements = self.rows = self.cells = self.shared_strings = self.shared_chars = 0

    def parsed(self, elements: int) -> None:
        self.elements += elements
        if self.elements > self.limits.elements:
            raise LimitExceeded(f"工作簿 XML 元素超过 {_amount(self.limits.elements)} 个{SPLIT}")

    def too_deep(self) -> None:
        raise LimitExceeded(PATHOLOGICAL.format(f"元素嵌套超过 {self.limits.depth} 层"))

    def inflate(self, size: int) -> None:
        self.inflated += size
        if self.inflated > self.limits.inflated_bytes:
            raise LimitExceeded(f"工作簿解压后超过 {self.limits.inflated_mb} MB{SPLIT}")
        if self.heartbeat is not None:
            self.heartbeat()

    def sheet(self, rows: int, cells: int) -> None:
        self.rows, self.cells = rows, cells
        if rows > self.limits.rows:
            raise LimitExceeded(f"工作簿超过 {_amount(self.limits.rows)} 行{SPLIT}")
        if cells > self.limits.cells:
            raise LimitExceeded(f"工作簿单元格超过 {_amount(self.limits.cells)} 个{SPLIT}")

    def shared(self, text: str) -> None:
        self.shared_strings += 1
        self.shared_chars += len(text)
        if self.shared_strings > self.limits.shared_strings:
            raise LimitExceeded(f"工作簿共享字符串超过 {_amount(self.limits.shared_strings)} 个{SPLIT}")
        if self.shared_chars > self.limits.shared_chars:
            raise LimitExceeded(f"工作簿共享字符串总长超过 {_amount(self.limits.shared_chars)} 字{SPLIT}")

    def cell_text(self, length: int) -> None:
        if length > self.limits.cell_chars:
            raise LimitExceeded(PATHOLOGICAL.format(f"单元格文字超过 {self.limits.cell_chars} 字"))


class _Part:
    """One part of the package as a file object, metered as it is inflated: its bytes count
    towards the workbook's total (and the part's own cap, if any), and the bytes since the last
    ``<`` — a tag with its attributes, or a run of text — may not exceed ``token_kb``."""

    def __init__(self, stream: IO[bytes], meter: Meter, cap: int | None = None):
        self.stream, self.meter, self.cap = stream, meter, cap
        self.size = 0
        self.run = 0  # bytes since the last '<'

    def read(self, size: int = BLOCK) -> bytes:
        block = self.stream.read(min(size, BLOCK) if size and size > 0 else BLOCK)
        if not block:
            return block
        self.size += len(block)
        if self.cap is not None and self.size > self.cap:
            raise LimitExceeded(PATHOLOGICAL.format(f"部件超过 {self.cap // 1024} KB"))
        first = block.find(b"<")
        if first < 0:
            self.run += len(block)
        else:
            self._check_run(self.run + first)
            self.run = len(block) - block.rfind(b"<") - 1
        self._check_run(self.run)
        self.meter.inflate(len(block))
        return block

    def _check_run(self, run: int) -> None:
        if run > self.meter.limits.token_kb * 1024:
            raise LimitExceeded(PATHOLOGICAL.format(f"单个标记或文字超过 {self.meter.limits.token_kb} KB"))


def _parse(part: _Part) -> etree._Element:
    return etree.parse(part, etree.XMLParser(**SAFE)).getroot()


def _sheet_path(archive: zipfile.ZipFile, preferred: str, meter: Meter) -> str:
    cap = meter.limits.part_kb * 1024
    with archive.open("xl/workbook.xml") as stream:
        sheets = [(s.get("name"), s.get(f"{REL}id")) for s in _parse(_Part(stream, meter, cap)).iter(f"{MAIN}sheet")]
    with archive.open("xl/_rels/workbook.xml.rels") as stream:
        targets = {r.get("Id"): r.get("Target")
                   for r in _parse(_Part(stream, meter, cap)).iter(f"{PACKAGE_REL}Relationship")}
    if not sheets:
        raise WorkbookError("no sheet")
    rel_id = next((rid for name, rid in sheets if name == preferred), sheets[0][1])
    target = targets[rel_id]
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def _expat(start: Callable, end: Callable, characters: Callable) -> expat.XMLParserType:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.StartDoctypeDeclHandler = _refuse_doctype
    return parser


def _refuse_doctype(*_args) -> None:
    raise WorkbookError("DOCTYPE is not allowed")


class _SharedStrings:
    """The shared-strings table, read only as far as the sheet refers to it: Excel numbers shared
    strings in the order it first meets them, so a sheet is read with the table beside it, and the
    upload's header check reads only the first few. Phonetic runs (``rPh``) are not part of the text."""

    def __init__(self, archive: zipfile.ZipFile, meter: Meter):
        self.items: list[str] = []
        self.meter = meter
        self.depth = self.elements = 0
        self.max_depth = meter.limits.depth
        self.phonetic = 0
        self.parts: list[str] = []
        self.text: list[str] | None = None
        self.parser = _expat(self.start, self.end, self.characters)
        self.stream: IO[bytes] | None = None
        self.part: _Part | None = None
        if "xl/sharedStrings.xml" in archive.NameToInfo:
            self.stream = archive.open("xl/sharedStrings.xml")
            self.part = _Part(self.stream, meter)

    def __getitem__(self, index: int) -> str:
        if index < 0:
            raise IndexError(index)
        while index >= len(self.items) and self.part is not None:
            block = self.part.read(BLOCK)
            self.parser.Parse(block, not block)
            self.meter.parsed(self.elements)
            self.elements = 0
            if not block:
                self.close()
        return self.items[index]

    def start(self, name: str, _attrs: dict[str, str]) -> None:
        self.depth += 1
        self.elements += 1
        if self.depth > self.max_depth:
            self.meter.too_deep()
        tag = SHARED_TAGS.get(name)
        if tag == "si":
            self.parts = []
        elif tag == "rPh":
            self.phonetic += 1
        elif tag == "t" and not self.phonetic:
            self.text = []

    def characters(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def end(self, name: str) -> None:
        self.depth -= 1
        tag = SHARED_TAGS.get(name)
        if tag == "t" and self.text is not None:
            self.parts.append("".join(self.text))
            self.text = None
            self.meter.cell_text(sum(map(len, self.parts)))
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "si":
            text = "".join(self.parts)
            self.meter.shared(text)
            self.items.append(text)

    def close(self) -> None:
        self.part = None
        if self.stream is not None:
            self.stream.close()
            self.stream = None


class _Sheet:
    """expat handlers collecting finished rows; expat is the fastest XML parser in the standard
    library, and SAX-style handlers keep only the current row in memory."""

    def __init__(self, shared: _SharedStrings, meter: Meter, columns: int):
        self.shared = shared
        self.meter = meter
        self.width = columns
        self.rows: list[tuple[int, tuple[Any, ...], bool]] = []  # number, values, refers to shared strings
        self.refers = False
        self.columns: dict[str, int] = {}
        self.number = 0
        self.depth = self.elements = self.row_count = self.cells = 0
        self.max_depth, self.max_text = meter.limits.depth, meter.limits.cell_chars
        self.values: list[Any] = []
        self.kind: str | None = None
        self.reference: str | None = None
        self.parts: list[str] = []
        self.length = 0  # of the current cell's text
        self.text: list[str] | None = None
        self.formula: str | None = None
        self.parser = _expat(self.start, self.end, self.characters)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        self.elements += 1
        if self.depth > self.max_depth:
            self.meter.too_deep()
        tag = TAGS.get(name)
        if tag == "c":
            self.cells += 1
            self.kind, self.reference = attrs.get("t"), attrs.get("r")
            self.parts, self.formula, self.length = [], None, 0
        elif tag in ("v", "t", "f"):
            self.text = []
        elif tag == "row":
            self.row_count += 1
            self.number = int(attrs.get("r") or self.number + 1)
            self.values, self.refers = [], False

    def characters(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def end(self, name: str) -> None:
        self.depth -= 1
        tag = TAGS.get(name)
        if tag in ("v", "t", "f"):
            text = "".join(self.text or ())
            self.text = None
            self.length += len(text)
            if self.length > self.max_text:
                self.meter.cell_text(self.length)
            if tag == "f":
                self.formula = text
            else:
                self.parts.append(text)
        elif tag == "c":
            column = _column(self.reference, self.columns) if self.reference else len(self.values)
            if column >= MAX_COLUMNS:
                raise WorkbookError(f"column {column + 1} is beyond XFD")
            if column < self.width:
                if column >= len(self.values):
                    self.values.extend([None] * (column - len(self.values) + 1))
                self.values[column] = self.value()
        elif tag == "row":
            self.rows.append((self.number, tuple(self.values), self.refers))

    def value(self) -> Any:
        if self.formula is not None:
            return Formula("=" + self.formula)
        kind, raw = self.kind, "".join(self.parts)
        if kind == "inlineStr" or kind in ("str", "e", "d"):
            return raw
        if not self.parts:
            return None
        if kind == "s":
            self.refers = True
            return _SharedRef(raw)
        if kind == "b":
            return raw == "1"
        return _number(raw)


def _column(reference: str, cache: dict[str, int]) -> int:
    """'E12' → 4 (zero-based), cached by the column letters."""
    letters = reference.rstrip("0123456789")
    index = cache.get(letters)
    if index is None:
        if not (0 < len(letters) <= 3 and letters.isascii() and letters.isalpha()):
            raise WorkbookError(f"bad cell reference {reference[:20]!r}")
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


def iter_rows(archive: zipfile.ZipFile, preferred_sheet: str, meter: Meter | None = None,
              columns: int = MAX_COLUMNS) -> Generator[tuple[int, tuple[Any, ...]], None, None]:
    """(row number, values) of each row of the preferred sheet (or the first one), values of the
    first ``columns`` columns only (cells further right are counted, not kept). ``meter`` carries
    the caps and the heartbeat (default: :class:`Limits` as they are, no heartbeat)."""
    meter = meter or Meter(Limits())
    shared: _SharedStrings | None = None
    try:
        path = _sheet_path(archive, preferred_sheet, meter)
        shared = _SharedStrings(archive, meter)
        sheet = _Sheet(shared, meter, columns)
        with archive.open(path) as stream:
            part = _Part(stream, meter)
            while True:
                block = part.read(BLOCK)
                sheet.parser.Parse(block, not block)
                meter.parsed(sheet.elements)
                meter.sheet(sheet.row_count, sheet.cells)
                sheet.elements = 0
                for number, values, refers in sheet.rows:
                    yield number, tuple(shared[v] if type(v) is _SharedRef else v for v in values) if refers else values
                sheet.rows.clear()
                if not block:
                    break
    except (KeyError, ValueError, IndexError, expat.ExpatError, etree.XMLSyntaxError,
            zipfile.BadZipFile) as error:
        raise WorkbookError(str(error)) from None
    finally:
        if shared is not None:
            shared.close()


MAX_DIRECTORY_BYTES = 1024 * 1024  # the zip directory of a real workbook takes a few KB
_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"')


def open_package(content: bytes) -> zipfile.ZipFile:
    """An uploaded workbook's zip package. zipfile builds an object per directory entry before anything
    can be checked (a 40 MB file can list half a million entries: seconds and hundreds of MB), so the
    directory's size is read from the end-of-directory record first. LimitExceeded for a directory too
    large, WorkbookError for a file that is no zip package."""
    end = content.rfind(b"PK\x05\x06", max(0, len(content) - 22 - 0xFFFF))
    if end >= 0 and len(content) - end >= 22:
        entries, size = struct.unpack("<HL", content[end + 10:end + 16])  # total entries, directory bytes
        if size > MAX_DIRECTORY_BYTES or entries == 0xFFFF:  # 0xFFFF: more entries, in a ZIP64 record
            raise LimitExceeded(f"工作簿包含的部件过多（目录超过 {MAX_DIRECTORY_BYTES // 1024} KB），"
                                "请使用下载的模板重新填写")
    try:
        return zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError):
        raise WorkbookError("not a zip package") from None


HEADER_MB = 4  # an upload's quick check reads no further than this to find the header


def upload_header(archive: zipfile.ZipFile, preferred_sheet: str, width: int,
                  limits: Limits) -> tuple[tuple[Any, ...] | None, int]:
    """The quick check of an upload before its import is queued: the sheet's header row and the data rows
    its ``<dimension>`` declares (0 when it does not say: the import job's progress total), reading the
    package only as far as the header row, and never past ``HEADER_MB`` inflated, under the import's
    caps. LimitExceeded (its message says which cap) or WorkbookError for a file that cannot serve."""
    meter = Meter(replace(limits, inflated_mb=min(limits.inflated_mb, HEADER_MB)))
    rows = iter_rows(archive, preferred_sheet, meter, width)
    try:
        header = next(rows, (0, None))[1]
        with archive.open(_sheet_path(archive, preferred_sheet, meter)) as stream:
            found = _DIMENSION.search(stream.read(4096))
        return header, max(0, int(found.group(1)) - 1) if found else 0
    except LimitExceeded:
        if meter.inflated > meter.limits.inflated_bytes and limits.inflated_mb > HEADER_MB:
            raise LimitExceeded(f"工作簿前 {HEADER_MB} MB 中没有表头，请使用下载的模板") from None
        raise
    except KeyError:  # a part the workbook names is missing
        raise WorkbookError("missing part") from None
    finally:
        rows.close()
