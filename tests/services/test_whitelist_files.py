"""Whitelist files: CSV in UTF-8 or GBK with or without BOM, XLSX with an ID stored as a number."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from services.errors import ProblemError
from services.whitelist_files import read

HEADER = "身份证号,姓名,手机号,预授信额度,产品,客户经理,机构\n"
LINE = "350322198506150018,陈建国,13900000001,50000,NONG_E_DAI,manager01,350322101\n"


@pytest.mark.parametrize(("encoding", "bom", "expected"), [("utf-8", b"", "utf-8"), ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
                                                            ("gbk", b"", "gbk")])
def test_csv_in_utf8_or_gbk_with_or_without_bom(encoding, bom, expected):
    sheet = read(bom + (HEADER + "\n" + LINE).encode(encoding), max_rows=10)
    assert (sheet.format, sheet.encoding) == ("csv", expected)
    assert sheet.header[0] == "身份证号" and sheet.header[1] == "姓名"
    # Blank lines are skipped; row numbers are the file's lines, as the user sees them in a spreadsheet.
    assert sheet.rows == [(3, ["350322198506150018", "陈建国", "13900000001", "50000", "NONG_E_DAI", "manager01",
                               "350322101"])]


def test_xlsx_keeps_numbers_as_numbers():
    book = Workbook()
    ws = book.active
    ws.append(["身份证号", "姓名", "手机号", "预授信额度", "产品", "客户经理", "机构"])
    ws.append([3.50322198506150e17, "陈建国", 13900000001, 50000, "NONG_E_DAI", "manager01", "350322101"])
    ws.append(["350322198506150018", "林秀英", "13900000002", "30000", "NONG_E_DAI", "manager01", "350322101"])
    buf = io.BytesIO()
    book.save(buf)
    sheet = read(buf.getvalue(), max_rows=10)
    assert sheet.format == "xlsx" and [n for n, _ in sheet.rows] == [2, 3]
    assert isinstance(sheet.rows[0][1][0], float) and sheet.rows[1][1][0] == "350322198506150018"


@pytest.mark.parametrize(("data", "code"), [(b"", "FILE_EMPTY"), (b"   \n", "FILE_EMPTY"),
                                            (HEADER.encode(), "FILE_NO_ROWS"),
                                            (b"PK\x03\x04garbage", "FILE_FORMAT"),
                                            (b"\x00\x01\x02binary", "FILE_FORMAT"),
                                            ((HEADER + LINE * 3).encode(), "FILE_TOO_MANY_ROWS")])
def test_files_that_cannot_be_read_are_refused_with_a_reason(data, code):
    with pytest.raises(ProblemError) as err:
        read(data, max_rows=2)
    assert (err.value.status, err.value.code, err.value.field) == (422, code, "file")
    assert err.value.zh and err.value.en
