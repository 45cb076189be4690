"""The life-circle taxonomy is data, checked when read."""

from __future__ import annotations

import pytest

from spatial.standards import load_categories
from spatial.standards.lifecircle import LEVELS


def test_shipped_taxonomy_covers_the_standard():
    cats = {c.id: c for c in load_categories()}
    assert len(cats) >= 20
    assert cats["kindergarten"].radius_m == 300 and cats["kindergarten"].level == "5min"
    assert cats["junior_school"].radius_m == 1000 and cats["junior_school"].level == "15min"
    assert cats["bus_stop"].radius_m == 500 and cats["rail_station"].radius_m == 800
    assert all(c.level in LEVELS and c.zh and c.en and c.clause for c in cats.values())
    assert "141204" in cats["kindergarten"].amap


def test_users_own_file_is_checked(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        '[[category]]\nid = "x"\nzh = "某设施"\nen = "X"\nlevel = "20min"\nradius_m = -1\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as info:
        load_categories(path)
    assert "level must be one of" in str(info.value) and "radius_m" in str(info.value)
