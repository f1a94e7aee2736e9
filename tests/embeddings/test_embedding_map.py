"""The 2-D movie map: which titles get a label, PCA/t-SNE coordinates, the PNG."""
import pandas as pd
import pytest
import torch

from graphrec.embeddings.views import label_choice, map_plot, project_2d


def table_of(titles, genres, ratings):
    return pd.DataFrame({"title": titles, "year": [""] * len(titles), "main_genre": genres,
                         "genres": genres, "ratings": ratings})


def test_labels_name_franchises_then_each_genres_most_rated():
    t = table_of(["Star Wars (1977)", "Return of the Jedi (1983)", "Big (1988)", "Small (1990)", "Noir (1950)",
                  "Empire Strikes Back, The (1980)"],
                 ["Action", "Action", "Comedy", "Comedy", "Film-Noir", "Action"], [500, 400, 90, 300, 10, 350])
    got = [t["title"][i] for i in label_choice(t)]
    assert got[:3] == ["Star Wars (1977)", "Empire Strikes Back, The (1980)", "Return of the Jedi (1983)"]
    assert set(got[3:]) == {"Small (1990)", "Noir (1950)"}  # each genre's most-rated, no repeats
    assert len(label_choice(t, limit=2)) == 2


def test_pca_axes_follow_the_variance():
    x = torch.zeros(50, 4)
    x[:, 2] = torch.linspace(-5, 5, 50)  # all the variance on one axis
    x[:, 0] = 0.01 * torch.randn(50, generator=torch.Generator().manual_seed(0))
    xy, (ax, _) = project_2d(x, "pca")
    assert ax.startswith("PC1 (100.0%") and torch.allclose(torch.tensor(abs(xy[:, 0])), x[:, 2].abs(), atol=0.05)
    with pytest.raises(ValueError, match="unknown map method"):
        project_2d(x, "umap")


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_map_png(method, tmp_path):
    gen = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(20, 8, generator=gen) + 5, torch.randn(20, 8, generator=gen) - 5])
    t = table_of([f"Movie {i} (1990)" for i in range(40)], ["Drama"] * 20 + ["Comedy"] * 20, list(range(40)))
    out = map_plot(x, t, tmp_path / f"{method}.png", method)
    assert out.stat().st_size > 10_000
