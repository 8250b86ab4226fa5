"""BCP 47 tags to the language tags eSpeak NG voices declare, most specific first."""

from __future__ import annotations

import re

# Where eSpeak NG's language differs from the tag's; a bare "zh" is Mandarin ("cmn").
SPECIAL = {
    "zh": "cmn",
    "iw": "he",  # the old code for Hebrew
}
CANTONESE_REGIONS = frozenset({"HK", "MO"})
LANGUAGE = re.compile(r"[a-z]{2,3}")


def espeak_candidates(locale: str) -> tuple[list[str], str]:
    """Lower-case language tags to look up for `locale`, and its language subtag (safe to log).

    Script subtags are skipped (zh-Hant-TW -> zh-tw, cmn, zh); Hong Kong and Macao Chinese
    is Cantonese.
    """
    parts = locale.replace("_", "-").split("-")
    language = parts[0].lower()
    if not LANGUAGE.fullmatch(language):
        return [], "und"
    region = next((p.upper() for p in parts[1:] if len(p) == 2 and p.isalpha()), None)
    candidates = []
    if (language == "zh" and region in CANTONESE_REGIONS) or language == "yue":
        candidates.append("yue")
    if region:
        candidates.append(f"{language}-{region.lower()}")
    candidates.extend([SPECIAL.get(language, language), language])
    return list(dict.fromkeys(candidates)), language
