import json
import zipfile

import numpy as np
import pytest
import torch

from graphrec.data import load_movielens, load_ncf, save_ncf, split_movielens, to_hetero, homogeneous
from graphrec.data.download import safe_extract
from graphrec.data.movielens import locate
from graphrec.errors import DataError
from synthetic import write_ml100k


def test_ml100k_true_counts(ml100k):
    assert (ml100k.num_users, ml100k.num_items, len(ml100k.ratings)) == (943, 1682, 100000)
    assert ml100k.has_demographics
    assert len(ml100k.genres) == 19
    star_wars = ml100k.movies[ml100k.movies["title"] == "Star Wars (1977)"].iloc[0]
    assert star_wars["year"] == 1977 and "Sci-Fi" in star_wars["genres"]


def test_hetero_graph(ml100k):
    data = to_hetero(ml100k)
    assert data["user"].num_nodes == 943 and data["movie"].num_nodes == 1682
    ei = data["user", "rates", "movie"].edge_index
    assert ei.shape == (2, 100000)
    assert torch.equal(data["movie", "rated_by", "user"].edge_index, ei.flip(0))
    assert data["user", "rates", "movie"].rating.shape == (100000,)
    assert data["movie"].x.shape == (1682, 20)  # 19 genres + year
    assert data["user"].x.shape[0] == 943
    assert data.validate()


def test_homogeneous_view_round_trip():
    users = torch.tensor([0, 0, 1, 2])
    items = torch.tensor([1, 2, 0, 2])
    view = homogeneous(users, items, 3, 3)
    assert view.num_nodes == 6
    src, dst = view.edge_index
    t, idx = view.to_typed(src)
    assert set(zip(src.tolist(), dst.tolist())) == {(0, 4), (0, 5), (1, 3), (2, 5), (4, 0), (5, 0), (3, 1), (5, 2)}
    assert view.node_type.tolist() == [0, 0, 0, 1, 1, 1]
    assert t[src >= 3].eq(1).all() and idx.max() < 3


def test_csv_family_without_demographics(tmp_path):
    d = tmp_path / "ml-latest-small"
    d.mkdir()
    (d / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,10,4.5,100\n1,20,3.0,101\n2,10,5.0,102\n")
    (d / "movies.csv").write_text('movieId,title,genres\n10,"Heat, The (1995)",Action|Crime\n'
                                  '20,Toy Story (1995),Animation\n30,Unrated (2000),(no genres listed)\n')
    ml = load_movielens(None, d)
    assert ml.name == "ml-latest-small" and ml.num_users == 2 and ml.num_items == 2
    assert not ml.has_demographics
    assert ml.movies["title"][0] == "Heat, The (1995)" and ml.movies["year"][0] == 1995
    data = to_hetero(ml)
    assert data["user"].x.shape == (2, 0)


def test_ml1m_format(tmp_path):
    d = tmp_path / "ml-1m"
    d.mkdir()
    (d / "ratings.dat").write_text("1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n",
                                   encoding="latin-1")
    (d / "movies.dat").write_text("1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
                                  "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n",
                                  encoding="latin-1")
    (d / "users.dat").write_text("1::F::1::10::48067\n2::M::56::16::70072\n", encoding="latin-1")
    ml = load_movielens("ml-1m", d)
    assert (ml.num_users, ml.num_items) == (2, 2)
    assert list(ml.users["occupation"]) == ["K-12 student", "self-employed"]
    assert ml.movies.loc[0, "genres"] == ["Animation", "Children's", "Musical"]


@pytest.mark.parametrize("content, message", [
    ("1\t2\t3\t100\n1\t2\t3\n", "line 2: expected 4 fields, found 3"),
    ("1\t2\t3\t100\n1\t2\t3\t100\t7\n", "line 2: expected 4 fields, found 5"),
    ("1\t2\t3\t100\nx\t2\t3\t100\n", "line 2: user 'x' is not a number"),
    ("", "is empty"),
    ("1\t2\t3\t100\n999\t2\t3\t100\n", "line 2: rating names unknown user id 999"),
    ("1\t2\t3\t100\n1\t999\t3\t100\n", "line 2: rating names unknown movie id 999"),
])
def test_malformed_ratings_name_file_and_line(tmp_path, content, message):
    d = write_ml100k(tmp_path / "ml-100k", num_users=5, num_items=10, per_user=3)
    (d / "u.data").write_text(content)
    with pytest.raises(DataError) as e:
        load_movielens("ml-100k", d)
    assert message in str(e.value) and "u.data" in str(e.value)


def test_bad_encoding_named(tmp_path):
    d = tmp_path / "ml-latest-small"
    d.mkdir()
    (d / "ratings.csv").write_bytes(b"userId,movieId,rating,timestamp\n1,10,4,100\n")
    (d / "movies.csv").write_bytes(b"movieId,title,genres\n10,Caf\xe9 (1990),Drama\n")
    with pytest.raises(DataError, match=r"movies.csv: line 2: not valid utf-8"):
        load_movielens(None, d)


def test_missing_data_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("GRAPHREC_DATA", raising=False)
    with pytest.raises(DataError, match="--data-dir"):
        locate("ml-100k", None, download_ok=False)
    with pytest.raises(DataError, match=str(tmp_path)):
        locate("ml-100k", tmp_path, download_ok=False)


def test_safe_extract_refuses_escaping_members(tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("ml-100k/u.data", "1\t1\t1\t1\n")
        z.writestr("../evil.txt", "owned")
    with pytest.raises(DataError, match="unsafe"):
        safe_extract(bad, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out").exists()
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("ml-100k/u.data", "1\t1\t1\t1\n")
    assert (safe_extract(good, tmp_path / "out") / "ml-100k" / "u.data").is_file()


# ----------------------------------------------------------------------------- split

def _pairs(u, i):
    return set(zip(u.tolist(), i.tolist()))


def test_leave_one_out_is_latest_and_leak_free(ml100k, ml100k_split):
    s = ml100k_split
    assert len(s.test_user) == 943 and len(s.valid_user) == 943
    assert len(s.train_user) + 2 * 943 == 100000
    r = ml100k.ratings
    last = r.sort_values(["user", "timestamp", "item"]).groupby("user").tail(1)
    assert np.array_equal(last["item"].to_numpy(), s.test_item.numpy())
    train = _pairs(s.train_user, s.train_item)
    assert not train & _pairs(s.test_user, s.test_item)
    assert not train & _pairs(s.valid_user, s.valid_item)
    rated = {}
    for u, i in zip(r["user"].tolist(), r["item"].tolist()):
        rated.setdefault(u, set()).add(i)
    for u, negs in zip(s.test_user.tolist(), s.test_negatives.tolist()):
        assert len(set(negs)) == 99 and not set(negs) & rated[u]
    # training never sees a test negative as a positive either
    assert not train & {(u, n) for u, row in zip(s.test_user.tolist(), s.test_negatives.tolist()) for n in row}


def test_split_is_deterministic(synth):
    a, b = split_movielens(synth, seed=3), split_movielens(synth, seed=3)
    c = split_movielens(synth, seed=4)
    assert torch.equal(a.test_negatives, b.test_negatives)
    assert not torch.equal(a.test_negatives, c.test_negatives)


def test_ncf_round_trip(synth_split, tmp_path):
    save_ncf(synth_split, tmp_path)
    assert (tmp_path / "ml-100k.train.rating").is_file()
    line = (tmp_path / "ml-100k.test.negative").read_text().splitlines()[0]
    assert line.startswith("(") and len(line.split("\t")) == 100
    back = load_ncf(tmp_path)
    for f in ("train_user", "train_item", "test_user", "test_item", "test_negatives", "valid_item",
              "valid_negatives"):
        assert torch.equal(getattr(back, f), getattr(synth_split, f)), f
    assert (back.num_users, back.num_items) == (synth_split.num_users, synth_split.num_items)


def test_ncf_paper_files_without_validation(synth_split, tmp_path):
    save_ncf(synth_split, tmp_path)
    for f in ("ml-100k.valid.rating", "ml-100k.valid.negative", "split.json"):
        (tmp_path / f).unlink()
    test = tmp_path / "ml-100k.test.rating"  # the paper's files carry the held-out rating and time
    with pytest.raises(DataError, match="incomplete split folder"):  # graphrec's own zeros: an interrupted export
        load_ncf(tmp_path)
    test.write_text("".join(f"{u}\t{i}\t4\t978300760\n" for u, i, *_ in
                            (line.split("\t") for line in test.read_text().splitlines())))
    back = load_ncf(tmp_path)
    assert torch.equal(back.test_item, synth_split.test_item)
    assert len(back.valid_user) > 0
    train = _pairs(back.train_user, back.train_item)
    assert not train & _pairs(back.valid_user, back.valid_item)
    assert len(train) + len(back.valid_user) == len(synth_split.train_user)


def test_ncf_bad_negative_file(synth_split, tmp_path):
    save_ncf(synth_split, tmp_path)
    p = tmp_path / "ml-100k.test.negative"
    lines = p.read_text().splitlines()
    lines[2] = "garbage"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="test.negative: line 3"):
        load_ncf(tmp_path)


def test_training_negatives_exclude_positives(synth_split):
    s = synth_split
    gen = torch.Generator().manual_seed(0)
    neg = s.train_sampler.sample(s.train_user, 4, gen)
    assert neg.shape == (len(s.train_user), 4)
    rows = s.train_user[:, None].expand(-1, 4)
    assert not s.train_sampler.contains(rows, neg).any()
    assert s.train_sampler.contains(s.train_user, s.train_item).all()


def test_download_verifies_checksum(tmp_path, monkeypatch):
    """A download whose bytes do not match the MD5 is refused and leaves nothing behind."""
    import hashlib
    import io

    from graphrec.data import download as dl

    payload = b"not really a zip"

    class Response(io.BytesIO):
        headers = {"Content-Length": str(len(payload))}

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    monkeypatch.setattr(dl.urllib.request, "urlopen", lambda url, timeout=None: Response(payload))
    dest = tmp_path / "x.zip"
    with pytest.raises(DataError, match="checksum mismatch"):
        dl.download("https://example.org/x.zip", dest, md5="0" * 32)
    assert list(tmp_path.iterdir()) == []
    dl.download("https://example.org/x.zip", dest, md5=hashlib.md5(payload).hexdigest())
    assert dest.read_bytes() == payload
