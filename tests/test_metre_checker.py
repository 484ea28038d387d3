"""The 平仄 / 平水韵 checker on known poems, named faults and bad input."""

from __future__ import annotations

import random

import pytest

from engine.metre import phonology as ph
from engine.metre.checker import check, passes
from engine.metre.errors import MetreError

DENG_GAO = ("风急天高猿啸哀，渚清沙白鸟飞回。无边落木萧萧下，不尽长江滚滚来。"
            "万里悲秋常作客，百年多病独登台。艰难苦恨繁霜鬓，潦倒新停浊酒杯。")
SHAN_JU = ("空山新雨后，天气晚来秋。明月松间照，清泉石上流。"
           "竹喧归浣女，莲动下渔舟。随意春芳歇，王孙自可留。")
JING_YE_SI = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
GUAN_QUE = "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"


def test_deng_gao_passes_as_a_qilv_rhyming_in_hui() -> None:
    r = check(DENG_GAO)
    assert r.passed and r.verdict == "pass", [v.message for v in r.violations]
    assert (r.form, r.form_name, r.pattern.name) == ("qilv", "七言律诗", "仄起首句入韵")
    assert r.rhyme_group == "上平十灰"
    assert [x["char"] for x in r.rhymes] == list("哀回来台杯")
    assert all(link["ok"] for link in r.links) and len(r.links) == 7


def test_shan_ju_qiu_ming_passes_in_either_script() -> None:
    for text in (SHAN_JU, "空山新雨後，天氣晚來秋。明月松間照，清泉石上流。"
                          "竹喧歸浣女，蓮動下漁舟。隨意春芳歇，王孫自可留。"):
        r = check(text)
        assert r.passed, [v.message for v in r.violations]
        assert (r.form, r.pattern.name, r.rhyme_group) == ("wulv", "平起首句不入韵", "下平十一尤")
        assert r.marks[4][3] == ph.ZE  # 浣: missing from the 平水韵 table, 仄 from yunpy's 廣韻


def test_jing_ye_si_fails_and_says_why() -> None:
    r = check(JING_YE_SI)
    assert not r.passed and r.form == "wujue"
    assert r.rhyme_group == "下平七阳"  # the rhymes agree; the tones do not
    assert [(v.line, v.cols, v.kind) for v in r.violations] == [(1, (3,), "tone"),
                                                                  (2, (1,), "tone")]
    assert "「上」 (第四字) is 仄, the pattern needs 平" in r.violations[0].message
    assert "失黏 with line 2" in r.violations[1].message
    assert [link["ok"] for link in r.links] == [True, False, False]


def test_marks_for_level_oblique_either_and_unknown() -> None:
    assert [ph.mark(c) for c in "东白国石一出八十"] == ["平"] + ["仄"] * 7  # 入声 are 仄
    assert ph.mark("看") == ph.EITHER and ph.mark("𠀀") == ph.UNKNOWN
    assert ph.mark("發") == ph.mark("发") == ph.ZE
    assert ph.group_name(ph.ping_groups("东")[0]) == "上平一东"


def test_gu_ping_and_san_ping_wei_are_named() -> None:
    r = check("白日依山尽，老河入海流。欲穷千里目，更上高层楼。")
    assert [(v.line, v.kind) for v in r.violations] == [(1, "孤平"), (3, "三平尾")]
    assert check(GUAN_QUE).passed


def test_common_ao_jiu_is_accepted_and_an_unrescued_ao_is_not() -> None:
    rescued = "白日依水尽，黄河东海流。欲穷千里目，更上一层楼。"
    r = check(rescued)
    assert r.passed and r.variants[0].startswith("拗句")
    bad = check(GUAN_QUE.replace("山", "水"))
    assert [v.kind for v in bad.violations] == ["拗"]
    assert "not rescued" in bad.violations[0].message
    yue_ye = ("今夜鄜州月，闺中只独看。遥怜小儿女，未解忆长安。"
              "香雾云鬟湿，清辉玉臂寒。何时倚虚幌，双照泪痕干。")
    assert check(yue_ye).passed  # 平平仄平仄 twice: 特拗


def test_first_line_rhyme_decides_between_fitting_patterns() -> None:
    r = check("朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。")
    assert r.passed and r.pattern.name == "平起首句入韵" and r.rhyme_group == "上平十五删"


def test_rhymes_out_of_group_and_repeated() -> None:
    r = check("白日依山尽，黄河入海流。欲穷千里目，更上一层台。")
    assert [v.kind for v in r.violations] == ["rhyme"]
    assert "does not rhyme" in r.violations[0].message
    r = check("白日依山尽，黄河入海流。欲穷千里目，更上一层流。")
    assert [v.kind for v in r.violations] == ["rhyme"] and "used twice" in r.violations[0].message


def test_unpunctuated_and_newline_separated_text() -> None:
    assert check(GUAN_QUE.replace("，", "").replace("。", "")).lines == check(GUAN_QUE).lines
    assert check("白日依山尽\n黄河入海流\n欲穷千里目\n更上一层楼\n").passed


@pytest.mark.parametrize(("text", "msg"), [
    ("", "empty poem"),
    (" ，。\n", "empty poem"),
    ("hello 月光", "must be Chinese characters and punctuation; found 'e' 'h' 'l' 'o'"),
    ("春眠不觉晓，处处闻啼鸟。", "not a regulated form: 2 lines of 5, 5 characters"),
    ("白日依山尽，黄河入海流。欲穷千里目，更上一层楼上。", "4 lines of 5, 5, 5, 6"),
])
def test_bad_input_is_one_clear_error(text: str, msg: str) -> None:
    with pytest.raises(MetreError, match=msg):
        check(text)


def test_unknown_characters_are_marked_and_fail_with_a_reason() -> None:
    r = check("𠀀𠀁𠀂𠀃𠀄，" * 2 + "𠀀𠀁𠀂𠀃𠀅，𠀀𠀁𠀂𠀃𠀆。")
    assert all(m == ph.UNKNOWN for row in r.marks for m in row)
    assert not r.passed and {v.kind for v in r.violations} >= {"unknown"}


def test_fast_pass_agrees_with_the_full_report(corpus) -> None:  # noqa: ANN001
    regulated = [p for p in corpus.poems if p.form != "other"]
    sample = random.Random(0).sample(regulated, 300)
    assert [passes(p.text) for p in sample] == [check(p.text).passed for p in sample]
    assert 0.3 < sum(passes(p.text) for p in sample) / len(sample) < 0.95


def test_mixed_scripts_read_the_same() -> None:
    mixed = "床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。"
    a, b = check(mixed), check(JING_YE_SI)
    assert (a.marks, a.pattern, a.rhyme_group) == (b.marks, b.pattern, b.rhyme_group)
    assert [v.kind for v in a.violations] == [v.kind for v in b.violations]
