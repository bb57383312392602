"""Character names in Japanese and Chinese stories, found by rules and word lists.

Neither language puts spaces between words, so a name is found by what marks it:

- Japanese: a name with an honorific (``ハナさん``, ``太郎くん``, ``ミケちゃん``, ``姫様``,
  ``山田先生``), a katakana word used as a subject, topic or vocative (``コンは``, ``コンが``,
  ``コン、``), a kanji given name of the folk-tale kind (``桃太郎``, ``花子``), or a name
  introduced with ``という``/``と呼ばれる`` (``ハナという女の子``). The name is kept without its
  honorific, so ``ハナ`` is found in ``ハナさん`` and ``ハナちゃん`` alike.
- Chinese (simplified or traditional): a form of address ``小X``/``老X``/``阿X`` that is not
  a common word (``小兰``, ``老王``, ``阿福``; not ``小狗``, ``老师``), a name introduced with
  ``叫``/``名叫``/``叫做`` (``一个叫明明的男孩``), or a two-character name used before a speech
  verb (``明明说``).

A candidate must recur (at least twice) and must not be a common noun from the stop lists
(kinship words, animals, places, pronouns). No dictionary and no model: unusual text will
fool these rules; they let the pipeline run end to end without a language model.
"""

from __future__ import annotations

import re
from collections import Counter

from shared.providers.offline.sentences import word_set

__all__ = ["extract_chinese", "extract_japanese"]

_KATAKANA = "\u30a1-\u30fa\u30fc"
_KANJI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々"
_HONORIFICS = ("さん", "くん", "君", "ちゃん", "様", "さま", "先生", "せんせい", "殿", "どの")
#: Particles after which a word is a subject, topic, object or vocative.
_JA_PARTICLES = ("は", "が", "を", "に", "の", "と", "も", "へ", "、", "！", "。", "」")
#: Katakana words that recur in stories but are not names (animals are kinds, not names).
_JA_KATAKANA_STOP = word_set(
    """
    ウサギ キツネ タヌキ クマ ネコ イヌ ネズミ リス サル カメ カエル フクロウ カラス スズメ
    ペンギン クジラ ライオン トラ ゾウ キリン パンダ ウマ ブタ ヒツジ ヤギ ウシ ニワトリ ヒヨコ
    アヒル オオカミ シカ ドラゴン モグラ ハリネズミ カワウソ イルカ サカナ ツル ハト ワシ タカ
    ヘビ チョウ ホタル トンボ セミ バッタ クワガタ カブトムシ
    パン ケーキ ミルク ジュース スープ テレビ ラジオ ピアノ ボール バス タクシー ドア ベッド
    テーブル カーテン ポケット ランプ ロウソク ノート ペン ママ パパ オバケ ボク ワタシ
    ハイ イイエ ホント ネエ ヤア オイ アア ワア キラキラ ドキドキ ニコニコ
    """
)
#: Kanji words with an honorific that are roles or kin, not names (お母さん, 王様, 神様).
_JA_ROLE_STOP = word_set(
    """
    母 父 兄 姉 弟 妹 婆 爺 王 神 姫 月 日 星 仏 殿 奥 旦那 皆 皆様 客 客様 お客 医者 先生
    王子 王女 女王 子供 子ども 生徒 女 男 人 村人 母親 父親 家族 友達 赤ちゃん
    """
)
#: Endings of Japanese given names in folk tales (桃太郎, 花子, 一寸法師 aside).
_JA_NAME_ENDINGS = (
    *("太郎", "次郎", "三郎", "郎", "子", "助", "吉", "丸", "衛門", "蔵", "介", "兵衛"),
)
_JA_HONORIFIC_NAME = re.compile(
    rf"([{_KATAKANA}]{{2,8}}|[{_KANJI}]{{1,4}})(?:{'|'.join(_HONORIFICS)})"
)
_JA_INTRODUCED = re.compile(
    rf"([{_KATAKANA}]{{2,8}}|[{_KANJI}]{{2,4}})(?:という|と呼ばれる|っていう|と呼ばれた)"
)
_JA_KATAKANA_WORD = re.compile(rf"(?<![{_KATAKANA}])[{_KATAKANA}]{{2,8}}(?![{_KATAKANA}])")
_JA_KANJI_RUN = re.compile(rf"[{_KANJI}]{{2,4}}")


def _ja_candidates(text: str) -> list[str]:
    found: list[tuple[int, str]] = []
    for match in _JA_HONORIFIC_NAME.finditer(text):
        name = match.group(1)
        if name.startswith("お") or name in _JA_ROLE_STOP or name in _JA_KATAKANA_STOP:
            continue
        if len(name) == 1:
            continue  # 母さん, 王様: one kanji before an honorific is a role
        found.append((match.start(1), name))
    for match in _JA_INTRODUCED.finditer(text):
        name = match.group(1)
        if name not in _JA_KATAKANA_STOP and name not in _JA_ROLE_STOP:
            found.append((match.start(1), name))
    for match in _JA_KATAKANA_WORD.finditer(text):
        name = match.group(0)
        after = text[match.end() : match.end() + 2]
        if name in _JA_KATAKANA_STOP or (name.endswith("ー") and len(name) <= 2):
            continue
        if after.startswith(_HONORIFICS) or after.startswith(_JA_PARTICLES):
            found.append((match.start(), name))
    for match in _JA_KANJI_RUN.finditer(text):
        name = match.group(0)
        if name.endswith(_JA_NAME_ENDINGS) and name not in _JA_ROLE_STOP:
            found.append((match.start(), name))
    return [name for _, name in sorted(found)]


def extract_japanese(text: str, limit: int) -> list[str]:
    """Recurring Japanese names in order of first appearance (honorifics dropped)."""
    names: list[str] = []
    for name in _ja_candidates(text):
        if name in names or text.count(name) < 2:
            continue
        if any(name in other or other in name for other in names):
            continue  # 桃太郎 and 太郎: the first one found stands for both
        names.append(name)
        if len(names) == limit:
            break
    return names


_HANZI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
#: Words that look like forms of address but are common nouns or adverbs (both scripts).
_ZH_STOP = word_set(
    """
    小时 小時 小心 小孩 小孩子 小狗 小猫 小貓 小鸟 小鳥 小河 小路 小屋 小山 小船 小鱼 小魚 小兔
    小草 小花 小树 小樹 小手 小脚 小腳 小声 小聲 小姐 小朋友 小学 小學 小镇 小鎮 小村 小溪 小虫
    小蟲 小熊 小鹿 小猪 小豬 小羊 小马 小馬 小伙 小伙子 小子 小的 小小 小事 小巷 小岛 小島 小门
    小門 小刀 小床 小桥 小橋 小猴 小鸭 小鴨 小狐狸 小女孩 小男孩 小姑娘 小家伙 小家伙们
    老人 老师 老師 老虎 老鼠 老家 老婆 老公 老板 老闆 老实 老實 老是 老了 老树 老樹 老太太 老奶奶
    老爷爷 老爺爺 老婆婆 老头 老頭 老朋友 老地方 老房子 老大 老远 老遠 老天 老鹰 老鷹 老旧 老舊
    阿姨 阿嚏 阿婆 阿公 阿爸 阿妈 阿媽
    爷爷 爺爺 奶奶 妈妈 媽媽 爸爸 哥哥 姐姐 弟弟 妹妹 孩子 孩子们 孩子們 朋友 大家 我们 我們 你们
    你們 他们 他們 她们 她們 自己 大家 别人 別人 人们 人們 主人 邻居 鄰居 村民 国王 國王 公主 王子
    狐狸 兔子 小白兔 松鼠 乌龟 烏龜 猫头鹰 貓頭鷹 熊猫 熊貓 月亮 太阳 太陽 星星 天空 森林
    """
)
_ZH_ADDRESS = re.compile(rf"(?<![{_HANZI}]{{2}})([小老阿][{_HANZI}])")
_ZH_INTRODUCED = re.compile(
    rf"(?:名叫|叫做|名字叫|叫作|叫)([{_HANZI}]{{2,3}}?)(?=的|，|。|、|！|,|\s|是|和|与|與|$)"
)
_ZH_SPEAKER = re.compile(
    rf"(?:^|[，。！？、“”「」『』\s])([{_HANZI}]{{2,3}}?)(?:大声|大聲|轻声|輕聲|笑着|笑著)?"
    r"(?:说|說|问|問|喊|叫道|答道|回答|笑了|想)"
)
#: Characters that never start a name (pronouns, numbers, measure words, conjunctions).
_ZH_NOT_FIRST = frozenset(
    "我你他她它们們这這那哪谁誰一二三两兩几幾个個只隻的了在是和与與就都也又很太最有没沒不"
)
_ZH_NOT_LAST = frozenset("的了着著们們地得吗嗎呢吧啊")


def _zh_usable(name: str) -> bool:
    return (
        2 <= len(name) <= 3
        and name not in _ZH_STOP
        and name[:2] not in _ZH_STOP
        and name[0] not in _ZH_NOT_FIRST
        and name[-1] not in _ZH_NOT_LAST
    )


def extract_chinese(text: str, limit: int) -> list[str]:
    """Recurring Chinese names and forms of address in order of first appearance."""
    found: list[tuple[int, str]] = []
    for match in _ZH_ADDRESS.finditer(text):
        found.append((match.start(1), match.group(1)))
    for match in _ZH_INTRODUCED.finditer(text):
        found.append((match.start(1), match.group(1)))
    spoken: Counter[str] = Counter(m.group(1) for m in _ZH_SPEAKER.finditer(text))
    for match in _ZH_SPEAKER.finditer(text):
        if spoken[match.group(1)] >= 2:
            found.append((match.start(1), match.group(1)))
    names: list[str] = []
    for _, name in sorted(found):
        if name in names or not _zh_usable(name) or text.count(name) < 2:
            continue
        if any(name in other or other in name for other in names):
            continue
        names.append(name)
        if len(names) == limit:
            break
    return names
