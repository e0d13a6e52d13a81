"""Tests of the Python module against scipy, the command line and the explicit-matrix formulas.

Run by .ci/run in a fresh virtual environment (``pip install .`` plus numpy, scipy, pytest); the
command-line comparisons use the binary named by LEVYLAB_BIN (built by ``cargo test``) and are
skipped without it.
"""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import levylab

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("LEVYLAB_BIN")
needs_cli = pytest.mark.skipif(not BIN, reason="LEVYLAB_BIN not set")


def cli(*args):
    out = subprocess.run([BIN, *args], check=True, capture_output=True, text=True)
    return out.stdout


@pytest.mark.parametrize("alpha,beta", [(1.5, 0.0), (1.2, 0.5), (0.8, -0.3), (2.0, 0.0)])
def test_sampler_matches_scipy_levy_stable(alpha, beta):
    # scipy's levy_stable in S1 ("S1" is its default parametrization) against 20 000 draws: the
    # KS statistic at the 0.1 % level is 1.95/sqrt(n).
    x = levylab.sample(alpha, beta, size=20_000, seed=7)
    law = stats.levy_stable(alpha, beta)
    law.dist.parameterization = "S1"
    ks = stats.kstest(x, law.cdf).statistic
    assert ks < 1.95 / np.sqrt(x.size), ks
    # The CDF agrees with scipy's to 1e-5 at a few points.
    pts = np.array([-3.0, -0.5, 0.0, 0.7, 4.0])
    assert np.allclose(levylab.cdf(pts, alpha, beta), law.cdf(pts), atol=1e-5)


def test_cdf_on_nolans_table_as_shipped_with_scipy():
    # Nolan's S1 CDF table from scipy's own tests (4590 points, α from 0.1 to 2, β from −1 to 1,
    # p from 0.01 to 0.99). levylab may miss the table by more than 1e-6 at no more points than
    # scipy does, and where it does, scipy (an independent implementation) must give the same
    # value to 1e-8: those are errors of the table itself (α = 1, β = ±0.1…±0.3 at p = 0.01/0.99).
    import scipy

    path = Path(scipy.__file__).parent / "stats/tests/data/levy_stable/stable-Z1-cdf-sample-data.npy"
    if not path.exists():
        pytest.skip("this scipy build ships without its test data")
    x, p, alpha, beta, _ = np.load(path).T
    ours = np.array([levylab.cdf(float(x[i]), float(alpha[i]), float(beta[i])) for i in range(len(x))])
    theirs = np.array([stats.levy_stable.cdf(x[i], alpha[i], beta[i]) for i in range(len(x))])
    bad_ours = np.abs(ours - p) > 1e-6
    bad_theirs = np.abs(theirs - p) > 1e-6
    print(f"points off by more than 1e-6: levylab {bad_ours.sum()}, scipy {bad_theirs.sum()} of {len(x)}")
    assert bad_ours.sum() <= bad_theirs.sum()
    assert np.all(np.abs(ours[bad_ours] - theirs[bad_ours]) < 1e-8)


def test_quantile_inverts_cdf_and_keeps_shape():
    p = np.array([[0.05, 0.5], [0.9, 0.999]])
    q = levylab.quantile(p, 1.3, 0.2)
    assert q.shape == p.shape
    assert np.allclose(levylab.cdf(q, 1.3, 0.2), p, atol=1e-9)
    assert isinstance(levylab.cdf(0.0, 1.5), float)


def test_sampling_is_seeded():
    a = levylab.sample(1.5, size=1000, seed=3)
    assert np.array_equal(a, levylab.sample(1.5, size=1000, seed=3))
    assert not np.array_equal(a, levylab.sample(1.5, size=1000, seed=4))


@needs_cli
def test_sample_and_estimate_equal_the_cli(tmp_path):
    x = levylab.sample(1.5, 0.0, size=70_000, seed=5)
    f = tmp_path / "x.npy"
    cli("sample", "--alpha", "1.5", "-n", "70000", "--seed", "5", "--out", str(f))
    assert np.array_equal(np.load(f), x)
    want = json.loads(cli("estimate", str(f), "--json"))
    assert levylab.estimate(x) == want
    # float32 input, any shape, flattened row-major: the same as the CLI on the float32 file.
    x32 = x.astype(np.float32).reshape(700, 100)
    f32 = tmp_path / "x32.npy"
    np.save(f32, x32)
    want32 = json.loads(cli("estimate", str(f32), "--json", "--estimator", "paper"))
    assert levylab.estimate(x32, estimator="paper") == want32


def paper_formula(matrix, k1):
    """The paper's estimator on the pooled noise, written out with numpy."""
    x = matrix.ravel()
    n = x.size - x.size % k1
    x = x[:n]
    y = x.reshape(-1, k1).sum(axis=1)
    eps = 1e-16
    inv = (np.mean(np.log(np.abs(y) + eps)) - np.mean(np.log(np.abs(x) + eps))) / np.log(k1)
    return 1.0 / inv


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_noise_meter_equals_the_formula_on_the_explicit_matrix(dtype):
    rng = np.random.default_rng(1)
    p, m = 36, 500
    g = (levylab.sample(1.6, size=p * m, seed=9).reshape(p, m) + rng.normal(size=m)).astype(dtype)
    meter = levylab.NoiseMeter(m, layers=[200, 300])
    for row in g:
        meter.add_mean(row)
    for row in g:
        meter.add(row)
    r = meter.result()
    noise = g.astype(np.float64) - g.astype(np.float64).mean(axis=0)
    alpha = r["paper"]["alpha"]
    want = paper_formula(noise, r["paper"]["k1"])
    assert abs(alpha - want) < 1e-9 * abs(want), (alpha, want)
    assert r["batches"] == p and r["params"] == m
    assert len(r["per_layer"]) == 2 and len(r["noise_norms"]) == p
    # The norms of the explicit noise rows.
    assert np.allclose(r["noise_norms"], np.linalg.norm(noise, axis=1), rtol=1e-12)
    with pytest.raises(ValueError, match="already taken"):
        meter.result()


def test_noise_meter_tests_and_spectrum():
    # K = 300 rows of M = 400 with a planted covariance: the spectrum from the extra passes equals
    # numpy's eigenvalues of the sample covariance; the iteration-wise tests are in the report.
    rng = np.random.default_rng(5)
    k, m = 300, 400
    basis = rng.standard_normal((8, m))
    g = (rng.standard_normal((k, 8)) * np.arange(1, 9) ** -0.75) @ basis
    meter = levylab.NoiseMeter(m, coordinates=100, spectrum=5, spectrum_passes=6)
    for row in g:
        meter.add_mean(row)
    for row in g:
        meter.add(row)
    assert meter.spectrum_passes_left == 5
    while meter.spectrum_passes_left > 0:
        for row in g:
            meter.add_spectrum(row)
    r = meter.result()
    noise = g - g.mean(axis=0)
    exact = np.sort(np.linalg.eigvalsh(noise.T @ noise / (k - 1)))[::-1][:5]
    got = np.array(r["spectrum"]["eigenvalues"])
    assert np.allclose(got, exact, rtol=1e-6), (got, exact)
    assert r["gaussianity"]["test"] == "anderson-darling"
    assert r["gaussianity"]["coordinates"] == 100
    assert r["per_coordinate_alpha"]["estimator"] == "cf-regression"
    assert "p_value" in r["power_law"]
    with pytest.raises(ValueError, match="more than dim"):
        levylab.NoiseMeter(10, coordinates=11)


def test_bad_input_raises_value_error():
    with pytest.raises(ValueError, match="alpha must be in"):
        levylab.sample(2.5)
    with pytest.raises(ValueError, match="p must be in"):
        levylab.quantile(1.5, 1.5)
    with pytest.raises(ValueError, match="not a finite number"):
        levylab.estimate(np.array([1.0, np.nan] * 50))
    with pytest.raises(ValueError, match="estimator must be"):
        levylab.estimate(np.ones(100), estimator="median")
    meter = levylab.NoiseMeter(10)
    with pytest.raises(ValueError, match="row 0 has 3 values, expected 10"):
        meter.add_mean(np.ones(3))
    with pytest.raises(FileNotFoundError, match="no-such-file.toml: cannot read"):
        levylab.run("no-such-file.toml")
    with pytest.raises(FileNotFoundError, match="cannot read"):
        levylab.theory("no-such-file.toml")
    with pytest.raises(ValueError, match="<string>.*noise.sigma"):
        levylab.theory_toml(
            'name = "x"\npaths = 10\nhorizon = 10.0\n[landscape]\nkind = "flat"\n'
            '[noise]\nkind = "brownian"\nsigma = -1.0\n[integrator]\ndt = 0.01\n'
            '[event]\nkind = "interval"\ndomain = [-1.0, 1.0]\nstart = 0.0\n'
        )


@needs_cli
def test_run_and_theory_equal_the_cli(tmp_path):
    f = ROOT / "scenarios" / "getoor.toml"
    out = tmp_path / "res"
    cli("run", str(f), "--out", str(out), "--paths", "300", "--quiet")
    name = json.loads(f.read_text().split("name = ")[1].split("\n")[0])
    want = json.loads((out / name / "summary.json").read_text())
    got = levylab.run(str(f), paths=300, threads=1)
    times = got.pop("exit_times")
    for s in (want, got):
        for p in s["points"]:
            p.pop("wall_seconds")
    assert got == want
    assert len(times) == len(want["points"]) and times[0].shape == (300,)
    assert levylab.theory(str(f)) == json.loads(cli("theory", str(f), "--json"))
    # The same scenario as TOML text: the same numbers; only its source differs.
    text = levylab.run_toml(f.read_text(), paths=300, threads=1)
    text.pop("exit_times")
    for p in text["points"]:
        p.pop("wall_seconds")
    assert text.pop("source") == "<string>"
    got.pop("source")
    assert text == got
    assert levylab.theory_toml(f.read_text()) == levylab.theory(str(f))
