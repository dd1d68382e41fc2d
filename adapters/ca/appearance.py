"""What a visible signature looks like on the signature page: a framed box with the signer as the
contract shows them (masked name and role) and the signing time, set in the project's CJK font.

pyhanko embeds a subset of the font it is given and must parse that font for every signature. The
installed Noto Sans CJK face has 65,000 glyphs (parsing and subsetting it: ~0.3 s); the box needs a few
dozen. So a tiny font is cut once per distinct set of characters (in practice: per surname, the one
character a masked name shows besides the fixed labels) and kept for the life of the process.
"""

from __future__ import annotations

import tempfile
import threading
from functools import cache
from hashlib import sha256
from io import BytesIO
from pathlib import Path

from fontTools import subset, ttLib
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.opentype import CIDFontType0, GlyphAccumulatorFactory
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.stamp import TextStampStyle

from documents.fonts import installed_face

# The face base.css uses for sans text; installed by scripts/bootstrap.sh (fonts-noto-cjk).
FAMILY = "Noto Sans CJK SC"
FONT_SIZE = 8
# Characters every box may use, so most boxes differ only by the surname.
FIXED = "借款人保证人贷款人电子签名章署时间北京：:0123456789-*+() （）年月日"
_lock = threading.Lock()
_cut: dict[frozenset[str], Path] = {}


@cache
def _workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="nongedai-stamp-fonts-"))


def font_for(text: str) -> Path:
    """A font file holding the glyphs of FIXED and `text`, cut from the installed face once per set."""
    extra = frozenset(text) - frozenset(FIXED) - {"\n"}
    with _lock:
        path = _cut.get(extra)
        if path is not None:
            return path
        file, index = installed_face(FAMILY)
        font = ttLib.TTFont(file, fontNumber=index, lazy=True)
        options = subset.Options()
        options.layout_features = []  # horizontal Chinese and digits need no shaping features
        options.name_IDs = ["*"]
        options.notdef_outline = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=FIXED + "".join(sorted(extra)))
        subsetter.subset(font)
        path = _workdir() / f"stamp-{sha256(''.join(sorted(extra)).encode()).hexdigest()[:16]}.otf"
        font.save(path)
        _cut[extra] = path
        return path


_programs: dict[str, bytes] = {}


class _PreCutFont(GlyphAccumulatorFactory):
    """pyhanko's font engine, spared the work font_for already did: it would cut the font down again
    and recompile its CFF program for every signature (~20 ms each). The program of each cut font is
    compiled once and embedded as is: a few dozen glyphs, all of which the box may use."""

    def create_font_engine(self, writer, obj_stream=None):  # noqa: ANN001, ANN201 - pyhanko's signature
        engine = super().create_font_engine(writer, obj_stream)
        cidfont = engine.cidfont_obj
        if not isinstance(cidfont, CIDFontType0):
            return engine  # not a CFF face: leave pyhanko to it
        engine._subset_created = True  # noqa: SLF001 - font_for cut it already
        path = self.font_file

        def set_font_file(pdf_writer) -> generic.IndirectObject:  # noqa: ANN001
            program = _programs.get(path)
            if program is None:
                buffer = BytesIO()
                cidfont.cff.compile(buffer, cidfont.tt_font)
                program = _programs[path] = buffer.getvalue()
            stream = generic.StreamObject({generic.pdf_name("/Subtype"): generic.pdf_name("/CIDFontType0C")},
                                          stream_data=program)
            stream.compress()
            ref = pdf_writer.add_object(stream)
            cidfont._font_descriptor[generic.pdf_name("/FontFile3")] = ref  # noqa: SLF001 - as pyhanko's own
            return ref

        cidfont.set_font_file = set_font_file
        return engine


def stamp_style(lines: list[str]) -> TextStampStyle:
    """The box's style; its text is `lines`, fixed here (the time is known when the CA signs)."""
    text = "\n".join(lines)
    return TextStampStyle(
        stamp_text=text.replace("%", "%%"), border_width=1,
        text_box_style=TextBoxStyle(font=_PreCutFont(str(font_for(text)), font_size=FONT_SIZE)))
