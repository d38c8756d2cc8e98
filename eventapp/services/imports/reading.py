"""Read an uploaded table (CSV in UTF-8 or Windows-1252, or the first sheet of an XLSX file).

Everything comes back as text rows; what a cell means is decided by the importers.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask_babel import gettext as _

from eventapp.services import DomainError

# Limits of one upload: bigger files are refused with a message.
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 100
# An XLSX file is a zip archive; its unpacked parts may not be larger than this.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
# Characters that make spreadsheet programs treat a cell as a formula (see lists.safe_cell).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary Excel format (.xls)
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class UnreadableFile(DomainError):
    """The upload is no table this app can read; nothing was imported."""


@dataclass
class Table:
    """The rows of an uploaded table: the header and the data rows with their row numbers."""

    header: list[str]
    # (row number as a spreadsheet shows it, cells) for every row that is not empty.
    rows: list[tuple[int, list[str]]]
    # What was detected, to show on the preview: "UTF-8", "Windows-1252", "XLSX" …
    encoding: str
    delimiter: str = ""
    notes: list[str] = field(default_factory=list)


def read_table(content: bytes, filename: str = "") -> Table:
    """Read an upload as a table, or raise UnreadableFile with a message for the organiser."""
    if not content:
        raise UnreadableFile(_("Die Datei ist leer."))
    if len(content) > MAX_FILE_BYTES:
        raise UnreadableFile(
            _(
                "Die Datei ist größer als %(size)s MB. Bitte teilen Sie sie auf.",
                size=MAX_FILE_BYTES // (1024 * 1024),
            )
        )
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if content.startswith(OLE_MAGIC) or suffix == "xls":
        raise UnreadableFile(
            _(
                "Das alte Excel-Format (.xls) lässt sich nicht lesen. Bitte speichern Sie die "
                "Tabelle in Excel als „Excel-Arbeitsmappe (.xlsx)“ oder als „CSV UTF-8“."
            )
        )
    if content.startswith(ZIP_MAGIC):
        return _read_xlsx(content)
    if suffix in {"xlsx", "xlsm"}:
        raise UnreadableFile(_("Die Excel-Datei ist beschädigt oder keine Excel-Arbeitsmappe."))
    return _read_csv(content)


# --- CSV ------------------------------------------------------------------------------------


def decode_text(content: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM) strictly, else Windows-1252."""
    if content.startswith(UTF8_BOM):
        try:
            return content[len(UTF8_BOM) :].decode("utf-8"), "UTF-8 (BOM)"
        except UnicodeDecodeError:
            content = content[len(UTF8_BOM) :]
    elif content.startswith(UTF16_BOMS):
        try:
            return content.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            raise UnreadableFile(_("Die Datei ließ sich nicht als Text lesen.")) from None
    try:
        return content.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        raise UnreadableFile(
            _(
                "Die Datei ließ sich weder als UTF-8 noch als Windows-1252 lesen. Ist sie "
                "wirklich eine CSV-Datei? Bitte speichern Sie sie in Excel als „CSV UTF-8“."
            )
        ) from None


def detect_delimiter(text: str) -> str:
    """Return the delimiter of the header line: ";", "," or tab, whichever occurs most."""
    counts = {";": 0, ",": 0, "\t": 0}
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char in "\r\n" and not quoted:
            if any(counts.values()):
                break
        elif char in counts and not quoted:
            counts[char] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def _read_csv(content: bytes) -> Table:
    if b"\x00" in content[:4096] and not content.startswith(UTF16_BOMS):
        raise UnreadableFile(
            _("Diese Datei ist keine Tabelle. Bitte laden Sie eine CSV- oder XLSX-Datei hoch.")
        )
    text, encoding = decode_text(content)
    delimiter = detect_delimiter(text[:100_000])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            _keep_row(rows, reader.line_num, cells)
    except csv.Error:
        raise UnreadableFile(
            _(
                "Zeile %(row)s der Datei ließ sich nicht lesen (Anführungszeichen oder eine sehr "
                "lange Zelle). Bitte prüfen Sie die Datei.",
                row=reader.line_num,
            )
        ) from None
    return _table(rows, encoding, delimiter)


def _keep_row(rows: list[tuple[int, list[str]]], number: int, cells: list[str]) -> None:
    """Add a row unless it is empty; refuse a table beyond the row limit."""
    if not any(cell.strip() for cell in cells):
        return
    if any("\x00" in cell for cell in cells):  # no text holds one; PostgreSQL cannot compare it
        raise UnreadableFile(
            _(
                "Zeile %(row)s enthält ein Nullzeichen; die Datei ist wohl keine Tabelle.",
                row=number,
            )
        )
    if len(rows) > MAX_ROWS:  # the header row comes on top of the limit
        raise UnreadableFile(
            _(
                "Die Datei hat mehr als %(rows)s Zeilen. Bitte teilen Sie sie auf.",
                rows=MAX_ROWS,
            )
        )
    rows.append((number, [clean_cell(c) for c in cells[:MAX_COLUMNS]]))


def clean_cell(value: str) -> str:
    """Trim a cell; drop the apostrophe an export put before text that starts like a formula."""
    value = value.strip(" \u00a0")
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def _table(rows: list[tuple[int, list[str]]], encoding: str, delimiter: str) -> Table:
    if not rows:
        raise UnreadableFile(_("Die Datei enthält keine Zeilen."))
    (_number, header), data = rows[0], rows[1:]
    return Table(header=header, rows=data, encoding=encoding, delimiter=delimiter)


# --- XLSX -----------------------------------------------------------------------------------


def _read_xlsx(content: bytes) -> Table:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UnreadableFile(
            _("Die Excel-Datei ist beschädigt oder keine Excel-Arbeitsmappe.")
        ) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise UnreadableFile(_("Die Excel-Datei ist entpackt zu groß. Bitte teilen Sie sie auf."))
    from openpyxl import load_workbook  # slow to import; needed only here

    rows: list[tuple[int, list[str]]] = []
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                _keep_row(rows, number, [xlsx_text(v) for v in values[:MAX_COLUMNS]])
        finally:
            workbook.close()
    except UnreadableFile:
        raise
    except Exception:  # openpyxl raises many kinds of errors on damaged files
        raise UnreadableFile(
            _("Die Excel-Datei ist beschädigt oder keine Excel-Arbeitsmappe.")
        ) from None
    return _table(rows, "XLSX", "")


def xlsx_text(value: object) -> str:
    """Turn a cell value into text: dates as YYYY-MM-DD, times as HH:MM, whole numbers plain."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
