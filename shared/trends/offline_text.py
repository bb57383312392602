"""The offline summariser's words in Korean, English, Japanese and (Simplified) Chinese: the
summary sentence with the trend's numbers, status words, numbers written the way each
language counts them (만/억, 万/億, 万/亿, K/M/B), and three story templates per language
(``{subject}`` is the trend's label; ``{obj}`` the Korean object particle after it)."""

from __future__ import annotations

from schemas.story import Language
from shared.providers.offline.sentences import final_consonant
from shared.trends.models import Trend

#: The units of ten thousand and a hundred million, where a language counts in them.
_MYRIADS: dict[str, tuple[str, str]] = {"ko": ("만", "억"), "ja": ("万", "億"), "zh": ("万", "亿")}


def compact(n: float, language: Language) -> str:
    """A count as a reader of ``language`` writes it: ``2.1만``, ``2.1万``, ``21.0K``."""
    if language in _MYRIADS:
        wan, yi = _MYRIADS[language]
        if n >= 100_000_000:
            return f"{n / 100_000_000:.1f}{yi}"
        if n >= 10_000:
            return f"{n / 10_000:.1f}{wan}"
        return f"{n:,.0f}"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= size:
            return f"{n / size:.1f}{suffix}"
    return f"{n:,.0f}"


def josa(word: str, with_final: str, without_final: str) -> str:
    """The particle after ``word``: ``with_final`` after a final consonant (을, 이, 은)."""
    last = word[-1] if word else ""
    if "\uac00" <= last <= "\ud7a3":
        return with_final if final_consonant(last) else without_final
    return without_final


IDEAS: dict[Language, tuple[tuple[str, str], ...]] = {
    "en": (
        (
            "The {subject} surprise",
            "Mina had never tried {subject}. One rainy afternoon her little brother Jun showed "
            "her the video everyone at school was talking about. They tried it together in the "
            "kitchen, and everything went wrong at first. The cat joined in and made it worse. "
            "By evening they were laughing so hard that Grandma came to see. She smiled and "
            "showed them how she used to do it when she was young.",
        ),
        (
            "Jun and the perfect {subject}",
            "Jun wanted to make the perfect {subject} video before the weekend. He planned "
            "every step on a paper map and practised in front of the mirror. On the big day the "
            "wind blew his map away. He chased it through the park and met a girl named Sora. "
            "She knew a better way, and together they made something nobody had seen before.",
        ),
        (
            "The {subject} contest",
            "The whole street heard about the {subject} contest. Old Mr. Park said he was too "
            "old to join. His granddaughter Hana made him a secret plan. On contest day the "
            "neighbours gathered under the streetlights. Mr. Park surprised everyone, and the "
            "street remembered that night for a long time.",
        ),
    ),
    "ko": (
        (
            "{subject} 대소동",
            "민아는 {subject}{obj} 한 번도 해 본 적이 없었어요. 비 오는 오후, 동생 준이가 "
            "학교에서 유행하는 영상을 보여 주었어요. 둘은 부엌에서 함께 따라 해 보았지만 처음에는 "
            "모든 게 엉망이 되었어요. 고양이까지 끼어들어 더 난장판이 되었지요. 저녁이 되자 둘이 "
            "너무 크게 웃어서 할머니가 보러 오셨어요. 할머니는 웃으며 어릴 적 하던 방법을 알려 "
            "주셨어요.",
        ),
        (
            "준이의 완벽한 {subject}",
            "준이는 주말 전에 완벽한 {subject} 영상을 만들고 싶었어요. 종이 지도에 모든 순서를 "
            "적고 거울 앞에서 연습했어요. 그런데 촬영 날 바람이 지도를 날려 버렸어요. 지도를 "
            "쫓아 공원을 달리다가 소라를 만났어요. 소라는 더 좋은 방법을 알고 있었고, 둘은 아무도 "
            "본 적 없는 영상을 함께 만들었어요.",
        ),
        (
            "골목 {subject} 대회",
            "골목에 {subject} 대회 소식이 퍼졌어요. 박 할아버지는 나이가 많아서 못 나간다고 "
            "하셨어요. 손녀 하나는 할아버지를 위해 비밀 계획을 세웠어요. 대회 날 이웃들이 가로등 "
            "아래에 모였어요. 박 할아버지가 모두를 깜짝 놀라게 했고, 골목 사람들은 그날 밤을 오래 "
            "기억했어요.",
        ),
    ),
    "ja": (
        (
            "{subject}で大さわぎ",
            "ミナは{subject}を一度もやってみたことがありませんでした。雨の午後、弟のユウタが"
            "学校で話題になっている動画を見せてくれました。二人は台所でさっそくまねをしてみまし"
            "たが、はじめは失敗ばかり。ネコまで飛びこんできて、ますます大さわぎになりました。"
            "夕方には二人があんまり大笑いするので、おばあちゃんが様子を見に来ました。おばあちゃん"
            "はにっこりして、子どものころのやり方を教えてくれました。",
        ),
        (
            "ユウタと完ぺきな{subject}",
            "ユウタは週末までに、完ぺきな{subject}の動画を作りたいと思っていました。手順を一つ"
            "ずつ紙の地図に書きこみ、鏡の前で何度も練習しました。ところが撮影の日、風が地図を"
            "吹き飛ばしてしまいます。地図を追いかけて公園を走るうちに、ソラという女の子に出会い"
            "ました。ソラはもっといい方法を知っていて、二人はだれも見たことのない動画をいっしょに"
            "作りあげました。",
        ),
        (
            "商店街の{subject}大会",
            "商店街に{subject}大会のうわさが広まりました。山田のおじいさんは、もう年だから"
            "出られないと言いました。孫のハナは、おじいさんのためにひみつの作戦を立てました。"
            "大会の夜、近所の人たちが街灯の下に集まりました。おじいさんはみんなをあっとおどろかせ、"
            "商店街の人たちはその夜のことをいつまでも覚えていました。",
        ),
    ),
    "zh": (
        (
            "{subject}大作战",
            "米娜从来没有试过{subject}。一个下雨的午后，弟弟小俊给她看了学校里人人都在聊的视频。"
            "两人在厨房里跟着学，可一开始什么都不顺利。小猫也跑来凑热闹，把场面弄得更乱了。"
            "到了傍晚，他们笑得太大声，奶奶忍不住过来看看。奶奶笑眯眯地教他们自己小时候的做法。",
        ),
        (
            "小俊和完美的{subject}",
            "小俊想在周末前拍出一段完美的{subject}视频。他把每一步都写在一张纸地图上，还对着镜子"
            "练习了好几遍。可到了拍摄那天，一阵风把地图吹走了。他追着地图跑过公园，遇见了一个叫"
            "小雨的女孩。小雨知道一个更好的办法，两人一起拍出了谁也没见过的视频。",
        ),
        (
            "胡同里的{subject}比赛",
            "{subject}比赛的消息在整条胡同里传开了。老王爷爷说自己年纪太大，参加不了。孙女小花"
            "悄悄为爷爷定了一个秘密计划。比赛那天晚上，邻居们聚在路灯下。老王爷爷让大家都大吃"
            "一惊，胡同里的人很久都记得那个夜晚。",
        ),
    ),
}

STATUS_WORDS: dict[Language, dict[str, str]] = {
    "en": {"rising": "rising", "steady": "holding steady", "fading": "fading", "new": "new"},
    "ko": {
        "rising": "빠르게 뜨고 있어요",
        "steady": "꾸준히 보이고 있어요",
        "fading": "하락세예요",
        "new": "새로 떠올랐어요",
    },
    "ja": {
        "rising": "急上昇しています",
        "steady": "安定して見られています",
        "fading": "下り坂です",
        "new": "新たに現れました",
    },
    "zh": {
        "rising": "正在迅速走红",
        "steady": "热度保持平稳",
        "fading": "热度正在回落",
        "new": "刚刚出现",
    },
}


def summary(
    trend: Trend,
    language: Language,
    region: str,
    views: str,
    per_hour: str,
    title: str,
    channel: str,
) -> str:
    """The numbers stated plainly: status, growth and window, never a ratio under a
    "rising" heading that says the opposite."""
    status = STATUS_WORDS[language][trend.status]
    n, hours, pct = len(trend.videos), f"{trend.age_h:.0f}", trend.growth_pct
    if language == "ko":
        growth = "" if pct is None else f" 직전 구간보다 시간당 조회수가 {pct:+.0f}% 변했고,"
        return (
            f"{region} 쇼츠의 {trend.label} 관련 영상 {n}개({trend.channels}개 채널)는 지금 "
            f"{status}.{growth} 지금 모두 합쳐 시간당 {per_hour}회씩 늘고 있어요(누적 "
            f"{views}회, 영상 나이 중앙값 {hours}시간). 대표 영상: “{title}” — {channel}."
        )
    if language == "ja":
        growth = (
            ""
            if pct is None
            else f"直前の区間と比べて、1時間あたりの再生回数は{pct:+.0f}%変化しました。"
        )
        return (
            f"{region}のYouTubeショートで、{trend.label}に関連する動画{n}本"
            f"（{trend.channels}チャンネル）が{status}。{growth}現在は合計で1時間に{per_hour}回の"
            f"ペースで再生が増えています（累計{views}回、動画の経過時間の中央値は{hours}時間）。"
            f"代表的な動画：「{title}」（{channel}）。"
        )
    if language == "zh":
        growth = "" if pct is None else f"与上一个区间相比，每小时播放量变化了{pct:+.0f}%。"
        return (
            f"在{region}的 YouTube Shorts 上，与{trend.label}相关的{n}个视频（来自"
            f"{trend.channels}个频道）{status}。{growth}目前合计每小时增加{per_hour}次播放"
            f"（累计{views}次，视频发布时长中位数为{hours}小时）。代表视频：“{title}”——{channel}。"
        )
    growth = (
        "" if pct is None else f" Views per hour changed {pct:+.0f}% against the interval before."
    )
    return (
        f"{trend.label} on Shorts in {region} is {status}: {n} related "
        f"video{'s' if n != 1 else ''} on {trend.channels} channel"
        f"{'s' if trend.channels != 1 else ''}, {views} views in all, now gaining {per_hour} "
        f"an hour (median age {hours} hours).{growth} Top video: “{title}” by {channel}."
    )
