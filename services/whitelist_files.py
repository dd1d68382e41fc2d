"""Reading an uploaded whitelist file: CSV (UTF-8 or GBK, with or without BOM) or XLSX, into header and rows.

Cells stay as the file holds them (XLSX numbers stay numbers), so domain/whitelist.py can tell an ID
a spreadsheet stored as a number from one typed as text.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from openpyxl import load_workbook

from services.errors import ProblemError

XLSX_MAGIC = b"PK\x03\x04"


@dataclass
class Sheet:
    format: str  # csv | xlsx
    encoding: str | None
    header: list[object]
    rows: list[tuple[int, list[object]]]  # (row number as the user sees it, cells)


def _refuse(code: str, zh: str, en: str) -> ProblemError:
    return ProblemError(422, code, zh, en, "file")


def read(data: bytes, *, max_rows: int) -> Sheet:
    if not data.strip():
        raise _refuse("FILE_EMPTY", "文件为空", "the file is empty")
    sheet = _xlsx(data) if data.startswith(XLSX_MAGIC) else _csv(data)
    if len(sheet.rows) > max_rows:
        raise _refuse("FILE_TOO_MANY_ROWS", f"一个文件最多{max_rows:,}行", f"a file holds at most {max_rows:,} rows")
    if not sheet.rows:
        raise _refuse("FILE_NO_ROWS", "文件只有表头,没有数据行", "the file has a header but no rows")
    return sheet


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK (and of GB2312): what Excel saves as "CSV" on a Chinese Windows.
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError as exc:
        raise _refuse("FILE_ENCODING", "无法识别文件编码,请另存为UTF-8或GBK编码的CSV",
                      "the file is neither UTF-8 nor GBK; save it as a UTF-8 or GBK CSV") from exc


def _csv(data: bytes) -> Sheet:
    if b"\x00" in data[:4096]:
        raise _refuse("FILE_FORMAT", "只接受CSV或XLSX文件", "only CSV and XLSX files are accepted")
    text, encoding = _decode(data)
    lines = list(csv.reader(io.StringIO(text, newline="")))
    numbered = [(i, row) for i, row in enumerate(lines, start=1) if any(c.strip() for c in row)]
    if not numbered:
        raise _refuse("FILE_EMPTY", "文件为空", "the file is empty")
    (_, header), body = numbered[0], numbered[1:]
    return Sheet("csv", encoding, list(header), [(i, list(r)) for i, r in body])


def _xlsx(data: bytes) -> Sheet:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise _refuse("FILE_FORMAT", "无法读取该XLSX文件", "the XLSX file cannot be read") from exc
    try:
        rows = list(_sheet_rows(book.worksheets[0]))
    finally:
        book.close()
    if not rows:
        raise _refuse("FILE_EMPTY", "文件为空", "the file is empty")
    (_, header), body = rows[0], rows[1:]
    return Sheet("xlsx", None, header, body)


def _sheet_rows(ws) -> Iterator[tuple[int, list[object]]]:
    for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = list(row)
        if any(c is not None and str(c).strip() for c in cells):
            yield i, cells
