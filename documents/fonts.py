"""The face documents are set in: the installed Noto Serif CJK SC, cut once per process down to the
characters of everyday Chinese (GB 2312: 6,763 hanzi and its symbols, full-width forms) and ASCII.

weasyprint cuts the face it embeds out of the installed font again for every PDF, and that work (and
compressing what it keeps) grows with the font's glyph count. The installed face has 65,000 glyphs and
the cut ~7,700, which halves the time to write a PDF and its size (a drawdown note: 343 KB -> 142 KB,
which a borrower downloads over a village's mobile network). The glyphs are the installed face's own,
so a page looks and breaks exactly as before. A character outside the cut (a rare one in a name, 䶮 or
堃) is taken glyph by glyph from the full installed face, which stays next in the font stack.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from functools import cache
from pathlib import Path

import uharfbuzz as hb
from weasyprint import CSS
from weasyprint.text.fonts import FontConfiguration

INSTALLED_FAMILY = "Noto Serif CJK SC"
# Named after what it is, so the PDF's font name still says Noto Serif CJK SC.
CUT_FAMILY = "Noto Serif CJK SC Common"
# The weights the templates use.
WEIGHTS = ("regular", "bold")
# Renders in the worker's own process run on several activity threads: one configuration and one cut.
_first_use = threading.RLock()


@cache
def installed_face(family: str, style: str = "") -> tuple[str, int]:
    """(file, index in the collection) of the face fontconfig resolves for `family` (and `style`, e.g.
    "bold"), as weasyprint would; an error that says what to install when it is not there."""
    fc = shutil.which("fc-match")
    if fc is None:
        raise RuntimeError("fc-match not found: install fontconfig and fonts-noto-cjk (scripts/bootstrap.sh)")
    pattern = f"{family}:{style}" if style else family
    out = subprocess.run([fc, "-f", "%{file}\n%{index}\n%{family}", pattern], check=True, capture_output=True,
                         text=True, timeout=10).stdout.splitlines()
    if len(out) < 3 or family not in out[2].split(","):
        raise RuntimeError(f"{family} is not installed (fontconfig offers {out[2:] or '?'}): install fonts-noto-cjk")
    return out[0], int(out[1])


def common_characters() -> list[int]:
    """Every character GB 2312 encodes (rows 1-9 symbols, 16-87 hanzi), printable ASCII and Latin-1,
    and the punctuation Chinese text borrows from Unicode's general block."""
    chars = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) | set(range(0x2010, 0x2060))
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.update(map(ord, bytes((row, cell)).decode("gb2312")))
            except UnicodeDecodeError:
                continue  # an unassigned cell
    return sorted(chars)


def cut_face(file: str, index: int, characters: list[int]) -> bytes:
    """The face at `index` of `file` with only the glyphs of `characters` (HarfBuzz, ~0.3 s)."""
    face = hb.Face(hb.Blob.from_file_path(file), index)
    request = hb.SubsetInput()
    for char in characters:
        request.unicode_set.add(char)
    cut = hb.subset(face, request)
    if cut is None:
        raise RuntimeError(f"HarfBuzz could not cut {file}#{index}")
    return cut.blob.data


def font_configuration() -> FontConfiguration:
    with _first_use:
        return _font_configuration()


@cache
def _font_configuration() -> FontConfiguration:
    # One per process: a new one per render reloads the 26 MB CJK font files (~40 ms).
    return FontConfiguration()


def document_stylesheet() -> CSS:
    """The cut faces as @font-face rules ahead of the installed ones, for every render of this process."""
    with _first_use:
        return _document_stylesheet()


@cache
def _document_stylesheet() -> CSS:
    # weasyprint copies a face into its font configuration when the stylesheet is built, so the files
    # written here may go once it is.
    characters = common_characters()
    rules = []
    with tempfile.TemporaryDirectory(prefix="nongedai-fonts-") as workdir:
        for weight in WEIGHTS:
            file, index = installed_face(INSTALLED_FAMILY, weight)
            path = Path(workdir) / f"{weight}.otf"
            path.write_bytes(cut_face(file, index, characters))
            rules.append(f'@font-face {{ font-family: "{CUT_FAMILY}"; src: url("{path.as_uri()}"); '
                         f"font-weight: {'bold' if weight == 'bold' else 'normal'}; }}")
        # weasyprint gives a sheet passed to render() the user origin, which only !important lifts over
        # the template's own base.css (it keeps the stack without the cut, for a browser preview).
        rules.append(f'html {{ font-family: "{CUT_FAMILY}", "{INSTALLED_FAMILY}", "Noto Sans CJK SC", serif '
                     "!important; }")
        return CSS(string="\n".join(rules), font_config=font_configuration())
