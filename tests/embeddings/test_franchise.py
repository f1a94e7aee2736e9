"""The franchise check from titles: series names, numbered sequels, colons, aliases, and what is not a sequel."""
import math

import pytest
import torch

from graphrec.embeddings.franchise import (base_title, franchise_groups, franchise_key, franchise_keys,
                                           sibling_pairs, split_franchises, title_stem)
from graphrec.embeddings.quality import franchise_recall

TITLES = [
    "Star Wars (1977)", "Empire Strikes Back, The (1980)", "Return of the Jedi (1983)",  # 0-2 alias
    "Godfather, The (1972)", "Godfather: Part II, The (1974)",  # 3-4 colon + Part II + article
    "Star Trek: The Wrath of Khan (1982)", "Star Trek III: The Search for Spock (1984)",  # 5-6 colon, roman
    "Die Hard (1988)", "Die Hard 2 (1990)", "Die Hard: With a Vengeance (1995)",  # 7-9 number and colon
    "Batman (1989)", "Batman Returns (1992)", "Batman & Robin (1997)",  # 10-12 follow-on titles
    "Alien (1979)", "Aliens (1986)", "Alien 3 (1992)",  # 13-15 alias plural, number
    "Cape Fear (1962)", "Cape Fear (1991)",  # 16-17 a remake: not siblings
    "Fear (1996)", "Fear, The (1995)",  # 18-19 two films, no instalment mark
    "Chasing Amy (1997)", "Chasing Amy (1997)",  # 20-21 a duplicate row
    "Jaws (1975)", "Jaws 3-D (1983)",  # 22-23 3-D
    "Toy Story (1995)", "Heavy (1995)", "Heavy Metal (1981)",  # 24-26 no franchise
    "Land Before Time III: The Time of the Great Giving (1995) (V)",  # 27 trailing (V): alone
]


@pytest.mark.parametrize("title,series", [
    ("Godfather: Part II, The (1974)", "godfather"), ("Star Trek III: The Search for Spock (1984)", "star trek"),
    ("Star Trek: First Contact (1996)", "star trek"), ("Die Hard 2 (1990)", "die hard"),
    ("Empire Strikes Back, The (1980)", "star wars"), ("Three Colors: Red (1994)", "three colors"),
    ("Father of the Bride Part II (1995)", "father of the bride"), ("Jaws 3-D (1983)", "jaws"),
    ("Crow: City of Angels, The (1996)", "crow"), ("Free Willy 2: The Adventure Home (1995)", "free willy"),
    ("Land Before Time III: The Time of the Great Giving (1995) (V)", "land before time"),
    ("Toy Story (1995)", "toy story"), ("2001: A Space Odyssey (1968)", "2001"),
    ("Wrong Trousers, The (1993)", "wallace & gromit"),
])
def test_series_names(title, series):
    assert franchise_key(title) == series


def test_instalment_marks_and_follow_on_titles():
    assert title_stem("Die Hard (1988)") == ("die hard", False)
    assert title_stem("Die Hard 2 (1990)") == ("die hard", True)
    keys = franchise_keys(TITLES)
    assert keys[11] == ("batman", True) and keys[12] == ("batman", True) and keys[10] == ("batman", False)
    assert keys[26] == ("heavy metal", False)  # a longer title is not a follow-on without "Returns" & co.
    assert base_title("Cape Fear (1991)") == base_title("Cape Fear (1962)") == "cape fear"


def test_groups_and_pairs_have_the_known_answers():
    groups = {k: sorted(v) for k, v in franchise_groups(TITLES).items()}
    assert groups == {"star wars": [0, 1, 2], "godfather": [3, 4], "star trek": [5, 6], "die hard": [7, 8, 9],
                      "batman": [10, 11, 12], "alien": [13, 14, 15], "jaws": [22, 23]}
    pairs = set(sibling_pairs(TITLES))
    assert (0, 1) in pairs and (1, 0) in pairs and (1, 2) in pairs  # sequels of each other, both ways
    assert not {(16, 17), (18, 19), (20, 21)} & pairs  # remake, two films, duplicate
    assert len(pairs) == 6 + 2 + 2 + 6 + 6 + 6 + 2


def test_split_halves_are_disjoint_and_keep_star_wars_for_choosing():
    groups = franchise_groups(TITLES)
    for seed in range(5):
        choose, report = split_franchises(groups, seed)
        assert "star wars" in choose and not set(choose) & set(report)
        assert sorted(choose + report) == sorted(groups) and abs(len(choose) - len(report)) <= 1


def test_franchise_recall_against_hand_counts():
    n = len(TITLES)
    scores = torch.rand(n, n, generator=torch.Generator().manual_seed(0)) * 0.1
    scores[0, 1] = scores[0, 2] = 1.0  # Star Wars finds both its sequels
    scores[1, 0] = 1.0  # Empire finds Star Wars only
    scores[1, 2] = scores[2, 0] = scores[2, 1] = -1.0  # ... not Jedi; Jedi finds neither
    scores[3, 4] = 1.0  # Godfather finds Part II; Part II finds nothing
    scores[4, 3] = -1.0
    sim = lambda q: scores[q]  # noqa: E731 - a similarity callable
    got = franchise_recall(sim, TITLES, k=2, series=["star wars", "godfather"])
    # per movie: SW 2/2, Empire 1/2, Jedi 0/2, Godfather 1/1, Part II 0/1 -> mean of 5
    assert got["franchise_movies"] == 5 and math.isclose(got["franchise@2"], (1 + 0.5 + 0 + 1 + 0) / 5, abs_tol=1e-9)
    assert math.isnan(franchise_recall(sim, TITLES, 2, series=["nope"])["franchise@2"])


def test_reasons_name_the_franchise_shared_genres_year_gap_and_common_raters(tmp_path):
    import numpy as np

    from graphrec.embeddings.why import Reasons, load_raters, save_raters

    movies = [{"title": "Star Wars (1977)", "year": "1977", "genres": "Action|Sci-Fi|War"},
              {"title": "Empire Strikes Back, The (1980)", "year": "1980", "genres": "Action|Drama|Sci-Fi"},
              {"title": "Fargo (1996)", "year": "1996", "genres": "Crime|Drama"},
              {"title": "Unknown", "year": "", "genres": "(none)"}]
    users, items = np.array([0, 1, 2, 0, 1, 1, 2, 1]), np.array([0, 0, 0, 1, 1, 2, 2, 2])  # (1, 2) twice
    save_raters(tmp_path, users, items, 4)
    raters = load_raters(tmp_path)
    assert [r.tolist() for r in raters] == [[0, 1, 2], [0, 1], [1, 2], []]
    why = Reasons(movies, raters)
    assert why(0, 1) == {"common_raters": 2, "shared_genres": ["Action", "Sci-Fi"], "franchise": "star wars",
                         "year": 1980, "year_gap": 3}
    assert why(0, 2) == {"common_raters": 2, "shared_genres": [], "franchise": None, "year": 1996, "year_gap": 19}
    assert why(2, 3)["year_gap"] is None and why(0, 3)["common_raters"] == 0
    assert Reasons(movies)(0, 1)["common_raters"] is None and load_raters(tmp_path / "none") is None
