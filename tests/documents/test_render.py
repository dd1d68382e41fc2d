"""Rendered contracts read back from the PDF: the Chinese text, the embedded CJK font, hash and pages."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from jinja2 import UndefinedError
from pydantic import ValidationError
from pypdf import PdfReader
from weasyprint.pdf.fonts import Font

from documents import render
from documents.fonts import CUT_FAMILY, common_characters
from documents.models import GuaranteeContractData, LoanContractData, Party, SpreadTerm
from documents.render import (
    GUARANTEE_CONTRACT,
    LOAN_CONTRACT,
    RenderedDocument,
    render_guarantee_contract,
    render_html,
    render_loan_contract,
)
from tests.documents.contract_data import make_guarantee_fields, make_loan_fields


def page_texts(doc: RenderedDocument) -> list[str]:
    # Whitespace is layout (line wraps, justification), not content: compare without it.
    return [re.sub(r"\s+", "", page.extract_text()) for page in PdfReader(io.BytesIO(doc.pdf)).pages]


def text_of(doc: RenderedDocument) -> str:
    return "".join(page_texts(doc))


def embedded_fonts(doc: RenderedDocument) -> dict[str, list[str]]:
    """Base font name -> the /FontFile* streams its descriptor carries, over every page."""
    found: dict[str, list[str]] = {}
    for page in PdfReader(io.BytesIO(doc.pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target["/FontDescriptor"].get_object()
            found[str(target["/BaseFont"])] = [k for k in descriptor if k.startswith("/FontFile")]
    return found


@pytest.fixture(scope="module")
def loan_doc() -> RenderedDocument:
    return render_loan_contract(LoanContractData(**make_loan_fields()))


@pytest.fixture(scope="module")
def guarantee_doc() -> RenderedDocument:
    return render_guarantee_contract(GuaranteeContractData(**make_guarantee_fields()))


def test_loan_contract_text_reads_back(loan_doc: RenderedDocument) -> None:
    text = text_of(loan_doc)
    for expected in [
        "个人借款合同", "HT2025061800012", "AP2025061800012",
        "林秀英", "350582199503121238", "13905951234", "福建省晋江市安海镇前蔡村三组45号",
        "福建省晋江农村商业银行股份有限公司安海支行",
        "人民币伍万元整", "¥50,000.00", "币种人民币", "购买茶苗及有机肥，扩大茶园种植",
        "LPR(一年期)3.00%+200个基点=年利率5.00%", "2025年5月20日", "年化利率为5.00%",
        "固定不变", "等额本息", "最长12个月", "2027年6月17日", "6229000000001234567",
        "连带责任保证", "陈建国", "350582199308062041",
        "罚息利率为年利率7.50%", "计收复利", "年利率10.00%", "提前到期", "金融信用信息基础数据库",
        "送达地址", "人民法院提起诉讼", "《中华人民共和国电子签名法》第十三条",
        "https://nongedai.example.cn/v1/documents/HT2025061800012/verification",
        "以各方电子签名的可信时间戳为准",
    ]:
        assert expected in text, expected


def test_every_page_has_contract_number_and_page_numbers(loan_doc: RenderedDocument) -> None:
    pages = page_texts(loan_doc)
    assert loan_doc.page_count == len(pages) >= 1
    for number, text in enumerate(pages, start=1):
        assert "合同编号：HT2025061800012" in text
        assert f"第{number}页/共{len(pages)}页" in text


def test_guarantee_contract_text_reads_back(guarantee_doc: RenderedDocument) -> None:
    text = text_of(guarantee_doc)
    for expected in [
        "保证合同", "HT2025061800012-G1", "主合同编号HT2025061800012", "借款人林秀英",
        "陈建国", "350582199308062041", "人民币伍万元整", "本合同的保证方式为连带责任保证", "先诉抗辩权",
        "借款本金、利息、罚息、复利、违约金、损害赔偿金", "执行费、律师费",
        "保证期间为主合同项下债务履行期限届满之日起六个月", "5.00%", "2027年6月17日",
        "《中华人民共和国电子签名法》",
    ]:
        assert expected in text, expected
    assert "另有保证人" not in text  # a single guarantor gets no co-guarantor clause
    assert guarantee_doc.page_count == len(page_texts(guarantee_doc)) >= 1


@pytest.mark.parametrize("doc_fixture", ["loan_doc", "guarantee_doc"])
def test_cjk_font_is_embedded(doc_fixture: str, request: pytest.FixtureRequest) -> None:
    fonts = embedded_fonts(request.getfixturevalue(doc_fixture))
    cjk = {name: files for name, files in fonts.items() if "Noto-Serif-CJK-SC" in name}
    assert cjk, fonts
    assert all(files for files in fonts.values()), f"a font is referenced but not embedded: {fonts}"


def test_hash_and_version(loan_doc: RenderedDocument, guarantee_doc: RenderedDocument) -> None:
    assert loan_doc.sha256 == hashlib.sha256(loan_doc.pdf).hexdigest()
    assert guarantee_doc.sha256 == hashlib.sha256(guarantee_doc.pdf).hexdigest()
    assert loan_doc.pdf.startswith(b"%PDF-")
    assert (loan_doc.template_version, guarantee_doc.template_version) == ("loan-contract/3", "guarantee-contract/2")


def test_same_data_renders_the_same_document(loan_doc: RenderedDocument) -> None:
    again = render_loan_contract(LoanContractData(**make_loan_fields()))
    assert page_texts(again) == page_texts(loan_doc)
    # weasyprint writes no creation date or random /ID, so within one installation the bytes (and
    # so the imaging key) repeat too; another weasyprint or font version may change the bytes.
    assert again.sha256 == loan_doc.sha256


def test_different_terms_render_different_clauses() -> None:
    fields = make_loan_fields() | dict(
        guarantee_type="credit", guarantors=[], repricing="yearly", revolving=False, repayment_method="bullet",
        spread_bp=-20, annual_rate=Decimal("0.0280"), signed_on=date(2025, 6, 18))
    text = text_of(render_loan_contract(LoanContractData(**fields)))
    for expected in ["农户小额信用贷款", "信用借款，不设担保", "每年调整一次", "额度不可循环使用", "利随本清",
                     "LPR(一年期)3.00%-20个基点=年利率2.80%", "罚息利率为年利率4.20%", "签订日期：2025年6月18日"]:
        assert expected in text, expected
    assert "陈建国" not in text


def test_co_guarantor_share_clause() -> None:
    fields = make_guarantee_fields() | dict(co_guarantors=["王美玲"], share=Decimal("0.5"))
    text = text_of(render_guarantee_contract(GuaranteeContractData(**fields)))
    assert "另有保证人王美玲提供保证" in text
    assert "按主合同项下债务的50.00%承担保证责任" in text


def test_missing_field_raises_instead_of_rendering_blank() -> None:
    fields = make_loan_fields()
    del fields["purpose"]
    unvalidated = LoanContractData.model_construct(**fields)
    with pytest.raises(UndefinedError, match="purpose"):
        render_html(LOAN_CONTRACT, unvalidated)
    with pytest.raises(ValidationError, match="purpose"):
        render_loan_contract(unvalidated)


def test_unvalidated_copy_is_revalidated_before_rendering(loan_data: LoanContractData) -> None:
    # model_copy(update=...) skips validation; a blank purpose must still not reach the PDF.
    with pytest.raises(ValidationError, match="purpose"):
        render_loan_contract(loan_data.model_copy(update={"purpose": ""}))
    bad_guarantor = Party.model_construct(**{**make_guarantee_fields()["guarantor"].model_dump(), "mobile": ""})
    with pytest.raises(ValidationError, match="mobile"):
        render_guarantee_contract(GuaranteeContractData.model_construct(
            **(make_guarantee_fields() | {"guarantor": bad_guarantor})))


def test_user_text_is_escaped(loan_fields: dict) -> None:
    loan_fields["purpose"] = "购买<b>化肥</b> & 农药"
    html = render_html(LOAN_CONTRACT, LoanContractData(**loan_fields))
    assert "购买&lt;b&gt;化肥&lt;/b&gt; &amp; 农药" in html
    assert "<b>化肥" not in html


def test_qr_code_is_embedded(loan_data: LoanContractData) -> None:
    assert 'src="data:image/svg+xml;charset=utf-8,%3Csvg' in render_html(LOAN_CONTRACT, loan_data)


def test_fonts_are_subset_by_harfbuzz_not_fonttools(monkeypatch: pytest.MonkeyPatch,
                                                    loan_data: LoanContractData) -> None:
    # fontTools takes ~8 s per contract on a CJK font, HarfBuzz ~0.2 s: weasyprint falls back silently
    # (a log line) when libharfbuzz-subset is missing, so check which path it takes.
    calls: list[str] = []
    harfbuzz = Font._harfbuzz_subset

    def spy(self: Font, *args: object) -> None:
        calls.append(self.family)
        harfbuzz(self, *args)

    def refuse(self: Font, *args: object) -> None:
        raise AssertionError("weasyprint fell back to fontTools subsetting: install libharfbuzz-subset0")

    monkeypatch.setattr(Font, "_harfbuzz_subset", spy)
    monkeypatch.setattr(Font, "_fonttools_subset", refuse)
    render_loan_contract(loan_data)
    assert CUT_FAMILY in calls


def test_everyday_text_embeds_only_the_cut_face(loan_doc: RenderedDocument) -> None:
    # The installed face cut to GB 2312 once per process: what weasyprint embeds per PDF comes from it.
    assert {name.split("+")[1] for name in embedded_fonts(loan_doc)} == {
        "Noto-Serif-CJK-SC-Common", "Noto-Serif-CJK-SC-Common-Bold"}


def test_a_rare_character_in_a_name_comes_from_the_installed_face(loan_data: LoanContractData) -> None:
    # 䶮 (CJK extension A) is outside GB 2312: it must print, taken from the full face, not as a blank box.
    rare = loan_data.model_copy(update={"borrower": loan_data.borrower.model_copy(update={"name": "王䶮"})})
    doc = render_loan_contract(rare)
    assert "王䶮" in text_of(doc)
    names = {name.split("+")[1] for name in embedded_fonts(doc)}
    assert {"Noto-Serif-CJK-SC-Common", "Noto-Serif-CJK-SC"} <= names, names


def test_the_cut_keeps_every_gb2312_character() -> None:
    chars = set(common_characters())
    assert len([c for c in chars if 0x4E00 <= c <= 0x9FFF]) == 6763  # GB 2312's hanzi, both levels
    assert {ord(c) for c in "贷款人民币￥，。：（）、壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整"} <= chars
    assert ord("䶮") not in chars


def test_refuses_to_issue_without_the_cjk_font(monkeypatch: pytest.MonkeyPatch,
                                                loan_data: LoanContractData) -> None:
    monkeypatch.setattr(render, "CJK_FAMILIES", frozenset({"A Font Nobody Has"}))
    with pytest.raises(RuntimeError, match="no CJK font embedded"):
        render_loan_contract(loan_data)


# sha256 of each template's sources. Changing what a signer reads means a new template version:
# bump it in documents/render.py, then update the pin here.
TEMPLATE_SOURCE_PINS = {
    "loan-contract/3": "1a61e8723120d9aa5d406c22dc7fa643179d2ff6a50ab16b77a3cba0447d9251",  # /2: the spread term by term; /3: and the visible signature boxes
    "guarantee-contract/2": "d23c9239345a91f58a81833ce7b98972955e244baf445f28420c71ba74b42fe4",
    # /3: the spread term by term; /4: the whole repayment schedule inside (repayment-schedule/2 was apart)
    "drawdown-note/4": "52dc7ab924206e5b2a013bf96aee70f7208189c5566740a2210eff733a89024b",
}


@pytest.mark.parametrize("template", [LOAN_CONTRACT, GUARANTEE_CONTRACT, render.DRAWDOWN_NOTE])
def test_template_sources_match_their_version(template: render.DocumentTemplate) -> None:
    digest = hashlib.sha256()
    for name in (template.name, "_macros.html", "base.css"):
        digest.update((render.TEMPLATE_DIR / name).read_bytes())
    assert TEMPLATE_SOURCE_PINS[template.version] == digest.hexdigest(), (
        f"{template.name} changed: bump {template.version} in documents/render.py and re-pin")


def test_the_spread_is_printed_term_by_term_when_known() -> None:
    """The customer's price breakdown in the contract: base spread, grade, stars, a credit village."""
    terms = [SpreadTerm(label="信用贷款基础加点", bp=200), SpreadTerm(label="信用等级 AA 利率调整", bp=-20),
             SpreadTerm(label="贡献度5星利率调整", bp=-20), SpreadTerm(label="政策标签「信用村」利率调整", bp=-20)]
    fields = make_loan_fields() | dict(spread_bp=140, annual_rate=Decimal("0.0440"), spread_terms=terms)
    text = text_of(render_loan_contract(LoanContractData(**fields)))
    assert "LPR(一年期)3.00%+140个基点=年利率4.40%" in text
    assert ("加点幅度由以下各项构成：信用贷款基础加点+200个基点；信用等级AA利率调整-20个基点；贡献度5星利率调整"
            "-20个基点；政策标签「信用村」利率调整-20个基点。") in text
    with pytest.raises(ValidationError, match="do not add up"):
        LoanContractData(**fields | dict(spread_terms=terms[:2]))
