"""New users and movies from their features: input checks with one clear message each."""
import pytest
import torch

from graphrec.data import FeatureTable
from graphrec.errors import DataError, GraphrecError
from graphrec.inductive import demographics, find_movies, read_new_movies, recommend_new_user
from graphrec.models import HeteroSAGE


def test_demographics_codes_and_one_error_listing_valid_values(synth):
    table = FeatureTable.from_movielens(synth)
    g, a, o = demographics(table, "f", 25, "Student")
    assert table.gender_names[g] == "F" and table.age_names[a] == "25-34" and table.occupation_names[o] == "student"
    assert table.age_names[demographics(table, "M", 17, "other")[1]] == "<18"
    with pytest.raises(GraphrecError) as e:
        demographics(table, "X", 0, "astronaut")
    msg = str(e.value)
    assert "\n" not in msg and "gender 'X' (valid: F, M)" in msg and "age 0" in msg
    assert "occupation 'astronaut' (valid: administrator, artist, doctor" in msg


def test_titles_match_exactly_and_ambiguous_ones_are_refused(synth):
    titles = list(synth.movies["title"])
    assert find_movies(synth, [titles[4], titles[4].rsplit(" (", 1)[0].upper()]) == [4, 4]
    assert find_movies(synth, ["movie 1"]) == [0]  # "Movie 1 (year)", not "Movie 10" .. "Movie 19"
    with pytest.raises(GraphrecError, match=r"'movie' is ambiguous: \d+ titles match: Movie 1 \("):
        find_movies(synth, ["movie"])  # never the most-rated of them, silently
    with pytest.raises(GraphrecError, match="no movie titled 'Nope'"):
        find_movies(synth, ["Nope"])


@pytest.mark.parametrize("text, message", [
    ("name,year\nA,2000\n", "needs the columns title, year, genres"),
    ("title,year,genres\nA,20x0,Drama\n", "line 2: year '20x0' is not a whole number"),
    ("title,year,genres\nA,2000,Drama|Space Opera\n", "line 2: unknown genre 'Space Opera' (valid: unknown, Action"),
    ("title,year,genres\n,2000,Drama\n", "line 2: empty title"),
    ("title,year,genres\n", "no movies"),
])
def test_bad_new_movie_files_get_one_line(synth, tmp_path, text, message):
    path = tmp_path / "new.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace("|", r"\|")):
        read_new_movies(path, list(synth.genres))


def test_new_movie_file_parsed(synth, tmp_path):
    path = tmp_path / "new.csv"
    path.write_text("title,year,genres\nA,1995,drama|Comedy\nB,,\n")
    rows, genres, years = read_new_movies(path, list(synth.genres))
    assert [r["title"] for r in rows] == ["A", "B"] and rows[1]["year"] is None
    assert genres[0].nonzero().flatten().tolist() == [synth.genres.index("Comedy"), synth.genres.index("Drama")]
    assert years.tolist() == pytest.approx([0.95, 0.0])


def test_a_transductive_model_is_refused(synth, synth_split):
    from graphrec.models import GMF

    with pytest.raises(GraphrecError, match="train a hetero-sage run"):
        recommend_new_user(GMF(synth.num_users, synth.num_items), synth, "F", 30, "student")
    model = HeteroSAGE.build(synth, synth_split, hidden=8)
    recs = recommend_new_user(model, synth, "F", 30, "student", liked=[synth.movies["title"][0]], k=5)
    assert len(recs) == 5 and synth.movies["raw_id"][0] not in [r["movie_id"] for r in recs]


@pytest.mark.parametrize("hparams", [{}, {"demo_prior": 2.0, "demo_decay": 0.5, "demo_smoothing": 0.3}],
                         ids=["plain", "new-user-term"])
def test_a_new_users_explanation_is_of_their_own_score(synth, synth_split, hparams):
    from graphrec.inductive import explain_new_user

    torch.manual_seed(0)
    model = HeteroSAGE.build(synth, synth_split, hidden=8, **hparams).eval()
    items = torch.tensor([1, 5, 9])
    g, a, o = demographics(model.table, "F", 30, "student")
    user = model.num_users
    reads, term = [], []
    for liked in (torch.tensor([], dtype=torch.long), torch.tensor([0, 3])):
        expected = model.score_with_nodes(torch.tensor([user]), new_users=(torch.tensor([g]), torch.tensor([a]),
                                                                            torch.tensor([o])),
                                          new_edges=(torch.full_like(liked, user), liked))[0, items]
        attr, table = explain_new_user(model, synth_split, "F", 30, "student", liked, items)
        torch.testing.assert_close(attr.logits, expected)  # the new user's own score, with their edges
        torch.testing.assert_close(attr.values.sum(1), attr.logits - attr.baseline - attr.delta, atol=1e-4, rtol=0)
        rows = {r["group"]: r for r in attr.rows(table, 0)}
        assert (rows["gender"]["value"], rows["age"]["value"], rows["occupation"]["value"]) == \
            ("gender=F", "age=25-34", "occupation=student")
        reads.append(rows["user_ratings"]["contribution"])
        assert set(rows) == {"gender", "age", "occupation", "genres", "year", "user_ratings", "movie_ratings",
                             *(["popularity"] if hparams else [])}
        if hparams:  # popularity among people like the user, beside the demographics: its own group
            assert rows["popularity"]["value"] == "popularity among F 25-34"
            term.append([[r["contribution"] for r in attr.rows(table, n) if r["group"] == "popularity"][0]
                         for n in range(len(items))])
    assert reads[0] != reads[1]  # what the user reads from the movies they liked
    if hparams:  # the term moves with the user's ratings (its weight fades: tests/models/test_hetero_sage_prior.py)
        assert term[0] != term[1]
