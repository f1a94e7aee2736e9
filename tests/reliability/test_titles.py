"""Class 6 of issue 25: one title resolver (graphrec.data.catalog.resolve_title) with one behaviour for
recommend --liked, similar and the Python API: ambiguous or unknown titles refused with candidates, whole-word
matches only, commas kept in titles, a string where a list is expected a TypeError."""
import numpy as np
import pytest

from graphrec.data.catalog import Catalog, resolve_title, resolve_titles
from graphrec.errors import GraphrecError

@pytest.fixture(scope="module")
def titles(ml100k_dir) -> list[str]:
    return [line.split("|")[1] for line in (ml100k_dir / "u.item").read_text(encoding="latin-1").splitlines()]


def _catalog(titles: list[str]) -> Catalog:
    n = len(titles)
    return Catalog("t", np.arange(1, 3), np.arange(1, n + 1), titles, np.full(n, np.nan), [[] for _ in titles],
                   np.array([0, 1, 2]), np.array([0, 0]))


def _resolvers(titles):
    """Every way graphrec resolves a title, as ``query -> index``."""
    from graphrec.embeddings.similarity import match_title
    from graphrec.inductive import find_movies

    c = _catalog(titles)
    return {"resolve_title": lambda q: resolve_title(titles, q), "similar": lambda q: match_title(titles, q),
            "liked": lambda q: find_movies(c, [q])[0]}


@pytest.mark.parametrize("query, candidates", [
    ("Star Trek", ["Star Trek: Generations (1994)", "Star Trek: First Contact (1996)"]),
    ("the", None), ("Star", ["Star Wars (1977)"])])
def test_ambiguous_titles_refused_everywhere_with_candidates(titles, query, candidates):
    for name, resolve in _resolvers(titles).items():
        with pytest.raises(GraphrecError, match="is ambiguous") as e:
            resolve(query)
        assert all(c in str(e.value) for c in candidates or []), (name, str(e.value))


@pytest.mark.parametrize("query", ["s", "S", "w", "ar", "Star Warz"])
def test_fragments_do_not_match_star_wars(titles, query):
    for name, resolve in _resolvers(titles).items():
        try:
            got = resolve(query)
        except GraphrecError:
            continue
        assert titles[got] != "Star Wars (1977)", (name, query)


@pytest.mark.parametrize("query, want", [
    ("star wars", "Star Wars (1977)"), ("Usual Suspects, The", "Usual Suspects, The (1995)"),
    ("the usual suspects (1995)", "Usual Suspects, The (1995)"), ("Star Trek: Generations", "Star Trek: Generations (1994)"),
    ("Heat", "Heat (1995)"), ("Chasing Amy", "Chasing Amy (1997)")])  # Chasing Amy is listed twice
def test_the_same_answer_everywhere(titles, query, want):
    assert {name: titles[resolve(query)] for name, resolve in _resolvers(titles).items()} == dict.fromkeys(
        _resolvers(titles), want)


def test_unknown_title_refused_with_close_titles(titles):
    for resolve in _resolvers(titles).values():
        with pytest.raises(GraphrecError, match=r"no movie titled 'Star Warz'; did you mean: Star Wars \(1977\)"):
            resolve("Star Warz")


def test_a_string_where_a_list_is_expected_is_a_type_error(titles):
    from graphrec.inductive import find_movies, liked_movies

    c = _catalog(titles)
    for call in (lambda: resolve_titles(titles, "Heat"), lambda: find_movies(c, "Heat"),
                 lambda: liked_movies(c, "Heat"), lambda: resolve_titles(titles, [3])):
        with pytest.raises(TypeError, match="Heat|int"):
            call()


def test_commas_belong_to_titles_on_the_command_line():
    from graphrec.cli import build_parser
    from graphrec.cli.recommend import liked_titles

    args = build_parser().parse_args(["recommend", "--new-user", "--liked", "Usual Suspects, The",
                                      "--liked", "Star Wars;Fargo (1996)"])
    assert liked_titles(args.liked) == ["Usual Suspects, The", "Star Wars", "Fargo (1996)"]


def test_duplicate_titles_resolve_to_the_most_rated():
    t = ["Chasing Amy (1997)", "Other (1990)", "Chasing Amy (1997)"]
    assert resolve_title(t, "chasing amy") == 0 and resolve_title(t, "chasing amy", counts=[1, 0, 5]) == 2


def test_a_comma_list_of_titles_resolves_each_and_a_title_with_commas_stays_whole():
    """``--liked "Star Wars (1977),Fargo (1996)"`` (the issue's command) names two movies; a title that
    holds commas resolves whole and is never split; a list with one unknown piece is refused whole."""
    from graphrec.errors import GraphrecError

    t = ["Star Wars (1977)", "Fargo (1996)", "Good, the Bad and the Ugly, The (1966)", "Good Will Hunting (1997)"]
    assert resolve_titles(t, ["Star Wars (1977),Fargo (1996)"]) == [0, 1]
    assert resolve_titles(t, ["Good, the Bad and the Ugly, The"]) == [2]
    assert resolve_titles(t, ["Star Wars, Fargo"]) == [0, 1]
    with pytest.raises(GraphrecError, match="separated by commas"):
        resolve_titles(t, ["Star Wars (1977),Nope (2001)"])
