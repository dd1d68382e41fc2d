"""Code tables of the archive form (crops, livestock, business kinds) and the demo branch's villages."""

from __future__ import annotations

from sqlmodel import Session

from db.models import ArchiveCode, Village

# (kind, code, 中文, English, unit)
ARCHIVE_CODES: tuple[tuple[str, str, str, str, str], ...] = (
    ("crop", "rice", "水稻", "rice", "亩"),
    ("crop", "sweet_potato", "地瓜", "sweet potato", "亩"),
    ("crop", "vegetable", "蔬菜", "vegetables", "亩"),
    ("crop", "tea", "茶叶", "tea", "亩"),
    ("crop", "longan", "龙眼", "longan", "亩"),
    ("crop", "loquat", "枇杷", "loquat", "亩"),
    ("crop", "mushroom", "食用菌", "edible fungi", "亩"),
    ("crop", "flower", "花卉苗木", "flowers and seedlings", "亩"),
    ("livestock", "pig", "生猪", "pigs", "头"),
    ("livestock", "cattle", "牛", "cattle", "头"),
    ("livestock", "goat", "山羊", "goats", "只"),
    ("livestock", "chicken", "鸡", "chickens", "羽"),
    ("livestock", "duck", "鸭", "ducks", "羽"),
    ("livestock", "rabbit", "兔", "rabbits", "只"),
    ("business", "furniture", "红木家具加工", "rosewood furniture making", "家"),
    ("business", "retail", "零售商店", "retail shop", "家"),
    ("business", "catering", "餐饮", "catering", "家"),
    ("business", "transport", "运输", "transport", "辆"),
    ("business", "processing", "农产品加工", "farm produce processing", "家"),
    ("business", "tourism", "乡村旅游", "rural tourism", "家"),
)

# 榜头镇 villages served by 榜头信用社 (code: the township's 9 digits + 3).
DEMO_VILLAGES: tuple[tuple[str, str, bool], ...] = (
    ("350322101201", "坝下村", True),
    ("350322101202", "紫泽村", False),
    ("350322101203", "南溪村", False),
    ("350322101204", "泉山村", True),
    ("350322101205", "云庄村", False),
)


def install_codes(session: Session) -> int:
    """Add the code-table rows that are missing; returns how many."""
    added = 0
    for kind, code, zh, en, unit in ARCHIVE_CODES:
        if session.get(ArchiveCode, (kind, code)) is None:
            session.add(ArchiveCode(kind=kind, code=code, name_zh=zh, name_en=en, unit=unit))
            added += 1
    return added


def install_villages(session: Session, branch_code: str) -> int:
    added = 0
    for code, name, credit_village in DEMO_VILLAGES:
        if session.get(Village, code) is None:
            session.add(Village(code=code, name=name, branch_code=branch_code, credit_village=credit_village))
            added += 1
    return added
