"""Franchises from movie titles: which movies are sequels, prequels or instalments of one series.

:func:`franchise_key` maps a MovieLens title to the name of its series, by rules on the title
and a short list of aliases for sequels whose titles do not say so:

1. the title is lower-cased, its year and other trailing brackets dropped, a trailing article
   moved back and then dropped ("Godfather: Part II, The (1974)" -> "godfather: part ii");
2. a **series name before a colon** is the series ("Star Trek: First Contact" -> "star trek");
3. a **numbered sequel** loses its number: a trailing ``2``..``99``, roman ``II``..``X``, ``Part II``,
   ``Part 2``, ``Part Deux`` or ``3-D`` ("Die Hard 2" -> "die hard", "Star Trek III" -> "star trek");
4. a title that is another title's stem plus ``Returns``, ``Forever`` or ``& Robin`` ("Batman
   Returns") joins that stem's series, only when the stem is itself a title (:func:`franchise_keys`);
5. :data:`ALIASES`: sequels whose titles share no stem ("Empire Strikes Back, The" -> "star wars",
   "Aliens" -> "alien").

Two movies are **siblings** (:func:`siblings`) when they have the same series, at least one of them
says it is an instalment (a colon, a number, rule 4 or an alias), and their titles differ without the
year: "Cape Fear (1962)" and "Cape Fear (1991)" are a remake, "Fear" and "Fear, The" two films, and
ML-100K lists a few films twice.

Rules on titles err both ways: "Robin Hood: Men in Tights" and "Robin Hood: Prince of Thieves" share
a series name and are not one franchise; the tests pin what the rules say on titles with known answers.
Pure Python (``graphrec similar`` uses it without loading the quality metrics).
"""
from __future__ import annotations

import re
from collections import defaultdict

#: Series whose instalments' titles share no stem, by the stem :func:`title_stem` gives.
ALIASES: dict[str, str] = {
    "empire strikes back": "star wars", "return of the jedi": "star wars",
    "raiders of the lost ark": "indiana jones", "indiana jones and the last crusade": "indiana jones",
    "indiana jones and the temple of doom": "indiana jones",
    "wrong trousers": "wallace & gromit", "close shave": "wallace & gromit", "grand day out": "wallace & gromit",
    "lost world": "jurassic park", "army of darkness": "evil dead",
    "grumpier old men": "grumpy old men", "addams family values": "addams family",
    "next karate kid": "karate kid", "naked gun 33 1/3": "naked gun", "d3": "mighty ducks",
    "aliens": "alien", "aladdin and the king of thieves": "aladdin",
    "return of the pink panther": "pink panther", "son of the pink panther": "pink panther",
    "wes craven's new nightmare": "nightmare on elm street",
}

_BRACKETS = re.compile(r"(\s*\([^)]*\)\s*)+$")  # "(1995)", "(1995) (V)", "(Wu Kui) (1994)"
_ARTICLE_END = re.compile(r"^(.*), (the|a|an|la|le|les|il|das|der|die|el)$")
_ARTICLE_START = re.compile(r"^(the|a|an) ")
_NUMBER = re.compile(r"\s+(part\s+)?([2-9]|[1-9][0-9]|ii|iii|iv|v|vi|vii|viii|ix|x|deux|3-d)$")
_FOLLOW_ON = re.compile(r"^(.+?)\s+(returns|forever|& robin|and robin)$")


def title_stem(title: str) -> tuple[str, bool]:
    """Rules 1-3 and 5 of the module docstring: (series name as far as the title alone says, whether
    the title marks itself as an instalment: a colon, a number or an alias)."""
    t = " ".join(title.strip().lower().split())
    t = _BRACKETS.sub("", t)
    m = _ARTICLE_END.match(t)
    if m:
        t = m.group(1)
    marked = ":" in t
    if marked:
        t = t.split(":", 1)[0].strip()
        m = _ARTICLE_END.match(t)  # "Crow: City of Angels, The" -> "crow"
        if m:
            t = m.group(1)
    t = _ARTICLE_START.sub("", t)
    n = _NUMBER.sub("", t).strip()
    marked = marked or n != t or n in ALIASES
    return ALIASES.get(n, n), marked


def franchise_keys(titles: list[str]) -> list[tuple[str, bool]]:
    """(series, marked) of every title: :func:`title_stem`, then rule 4 against the stems of all titles."""
    stems = [title_stem(t) for t in titles]
    known = {s for s, _ in stems}
    out = []
    for s, marked in stems:
        m = _FOLLOW_ON.match(s)
        if m and m.group(1) in known:
            s, marked = m.group(1), True
        out.append((s, marked))
    return out


def franchise_key(title: str) -> str:
    """The series of one ``title`` (rules 1-3 and 5; rule 4 needs every title: :func:`franchise_keys`)."""
    return title_stem(title)[0]


def base_title(title: str) -> str:
    """The title without its year and other trailing brackets, lower-case: duplicates and remakes share it."""
    return _BRACKETS.sub("", " ".join(title.strip().lower().split()))


def siblings(keys: list[tuple[str, bool]], titles: list[str], i: int, j: int) -> bool:
    """Whether movies ``i`` and ``j`` are instalments of one series: the same series, at least one of them
    marked as an instalment, and not the same title (ML-100K lists some films twice; remakes share titles)."""
    return (i != j and keys[i][0] == keys[j][0] and (keys[i][1] or keys[j][1])
            and base_title(titles[i]) != base_title(titles[j]))


def franchise_groups(titles: list[str]) -> dict[str, list[int]]:
    """``{series: [indices]}`` for every series with at least one pair of :func:`siblings`; a title
    without a sibling in its series (a duplicate, a remake) is left out."""
    keys = franchise_keys(titles)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, (k, _) in enumerate(keys):
        groups[k].append(i)
    out = {}
    for k, members in sorted(groups.items()):
        kept = [i for i in members if any(siblings(keys, titles, i, j) for j in members)]
        if kept:
            out[k] = kept
    return out


def sibling_pairs(titles: list[str], series: list[str] | None = None) -> list[tuple[int, int]]:
    """Ordered ``(query, sibling)`` pairs of :func:`siblings` within ``series`` (default: all)."""
    keys = franchise_keys(titles)
    groups = franchise_groups(titles)
    return [(i, j) for k in (series if series is not None else groups) for i in groups.get(k, ())
            for j in groups[k] if siblings(keys, titles, i, j)]


def split_franchises(groups: dict[str, list[int]], seed: int = 0,
                     choose: tuple[str, ...] = ("star wars",)) -> tuple[list[str], list[str]]:
    """(choose, report): a seeded random half of the series to choose settings on, the other half to
    report on. Series named in ``choose`` (the headline's Star Wars) always land in the first half."""
    import random

    keys = sorted(groups)
    rng = random.Random(seed)
    rng.shuffle(keys)
    forced = [k for k in keys if k in choose]
    rest = [k for k in keys if k not in choose]
    half = len(keys) // 2 - len(forced)
    return sorted(forced + rest[:half]), sorted(rest[half:])
