//! The Python module `levylab._levylab` (re-exported by the package `levylab`): levylab's samplers,
//! tail-index estimators and runs for numpy users. Errors carry the same one-line messages as the
//! command line: `FileNotFoundError` for a scenario file that does not exist, `KeyboardInterrupt`
//! for Ctrl-C during a run, `ValueError` for everything else.

use numpy::{IntoPyArray, PyArray1, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyFileNotFoundError, PyValueError};
use pyo3::prelude::*;

use levylab::noise::{Param, Stable};
use levylab::stats::tail_index::{self, HillK, Method, Options};

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// The law S_α(σ, β, μ) in parametrization `param` ("s1" or "s0").
fn law(alpha: f64, beta: f64, scale: f64, loc: f64, param: &str) -> PyResult<Stable> {
    let param: Param = param.parse().map_err(value_error)?;
    Stable::new(alpha, beta, scale, loc, param).map_err(value_error)
}

/// A JSON value as the Python object `json.loads` would make of its text (dict, list, int, float,
/// str, bool, None, in the same key order), built directly: no text round trip.
fn to_python<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use pyo3::types::{PyDict, PyList};
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for x in items {
                list.append(to_python(py, x)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, x) in map {
                dict.set_item(k, to_python(py, x)?)?;
            }
            dict.into_any()
        }
    })
}

/// Any float array (float32 or float64, any shape) as f64 values in row-major order.
fn floats(x: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    if let Ok(a) = x.extract::<PyReadonlyArrayDyn<'_, f64>>() {
        return Ok(a.as_array().iter().copied().collect());
    }
    if let Ok(a) = x.extract::<PyReadonlyArrayDyn<'_, f32>>() {
        return Ok(a.as_array().iter().map(|&v| f64::from(v)).collect());
    }
    // Lists, buffers and anything with __array__: through numpy as float64.
    let np = x.py().import("numpy")?;
    let arr = np.call_method1("ascontiguousarray", (x, "float64"))?;
    let a: PyReadonlyArrayDyn<'_, f64> = arr.extract()?;
    Ok(a.as_array().iter().copied().collect())
}

/// sample(alpha, beta=0.0, scale=1.0, loc=0.0, param="s1", size=1, seed=0) -> numpy.ndarray
///
/// `size` independent draws of S_α(σ, β, μ) (Chambers–Mallows–Stuck), a pure function of the
/// arguments: the same array as `levylab sample` with the same seed.
#[pyfunction]
#[pyo3(signature = (alpha, beta=0.0, scale=1.0, loc=0.0, param="s1", size=1, seed=0))]
#[allow(clippy::too_many_arguments)]
fn sample<'py>(
    py: Python<'py>,
    alpha: f64,
    beta: f64,
    scale: f64,
    loc: f64,
    param: &str,
    size: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let law = law(alpha, beta, scale, loc, param)?;
    let xs = py.detach(|| levylab::noise::draw(&law, size, seed));
    Ok(xs.into_pyarray(py))
}

/// Applies `f` to every element of a float array, keeping its shape; the GIL is released while
/// `f` runs.
fn elementwise<'py>(
    x: &Bound<'py, PyAny>,
    f: impl Fn(f64) -> f64 + Send + Sync,
) -> PyResult<Bound<'py, PyAny>> {
    let py = x.py();
    let np = py.import("numpy")?;
    let arr = np.call_method1("asarray", (x, "float64"))?;
    let a: PyReadonlyArrayDyn<'_, f64> = arr.extract()?;
    let shape = a.shape().to_vec();
    let xs: Vec<f64> = a.as_array().iter().copied().collect();
    let out: Vec<f64> = py.detach(|| xs.iter().map(|&v| f(v)).collect());
    let flat = out.into_pyarray(py);
    if shape.is_empty() {
        return flat.call_method1("item", (0,));
    }
    Ok(flat.reshape(shape.as_slice())?.into_any())
}

/// cdf(x, alpha, beta=0.0, scale=1.0, loc=0.0, param="s1") -> float or numpy.ndarray
///
/// The distribution function of S_α(σ, β, μ), element by element.
#[pyfunction]
#[pyo3(signature = (x, alpha, beta=0.0, scale=1.0, loc=0.0, param="s1"))]
fn cdf<'py>(
    x: &Bound<'py, PyAny>,
    alpha: f64,
    beta: f64,
    scale: f64,
    loc: f64,
    param: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let law = law(alpha, beta, scale, loc, param)?;
    elementwise(x, |v| law.cdf(v))
}

/// quantile(p, alpha, beta=0.0, scale=1.0, loc=0.0, param="s1") -> float or numpy.ndarray
///
/// The inverse distribution function of S_α(σ, β, μ), element by element; p must lie in (0, 1).
#[pyfunction]
#[pyo3(signature = (p, alpha, beta=0.0, scale=1.0, loc=0.0, param="s1"))]
fn quantile<'py>(
    p: &Bound<'py, PyAny>,
    alpha: f64,
    beta: f64,
    scale: f64,
    loc: f64,
    param: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let law = law(alpha, beta, scale, loc, param)?;
    let ps = floats(p)?;
    if let Some(bad) = ps.iter().find(|&&q| !(q > 0.0 && q < 1.0)) {
        return Err(value_error(format!("p must be in (0, 1), got {bad}")));
    }
    elementwise(p, |q| law.quantile(q))
}

/// estimate(x, estimator="all", k1=None, hill_k=None, hill_fraction=None, hill_grid=False,
///          bootstrap=200, level=0.95, seed=0) -> dict
///
/// Tail-index estimates of the samples in `x` (float32 or float64, any shape, flattened
/// row-major): the same dict as `levylab estimate --json`, one entry per estimator, each the
/// estimate or {"error": reason}. Raises ValueError when no estimator can be computed.
#[pyfunction]
#[pyo3(signature = (x, estimator="all", k1=None, hill_k=None, hill_fraction=None, hill_grid=false, bootstrap=200, level=0.95, seed=0))]
#[allow(clippy::too_many_arguments)]
fn estimate<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    estimator: &str,
    k1: Option<usize>,
    hill_k: Option<usize>,
    hill_fraction: Option<f64>,
    hill_grid: bool,
    bootstrap: usize,
    level: f64,
    seed: u64,
) -> PyResult<Bound<'py, PyAny>> {
    if !(level > 0.0 && level < 1.0) {
        return Err(value_error(format!("level must be in (0, 1), got {level}")));
    }
    let methods: &[Method] = match estimator {
        "paper" => &[Method::Paper],
        "hill" => &[Method::Hill],
        "mcculloch" => &[Method::McCulloch],
        "all" => &[Method::Paper, Method::Hill, Method::McCulloch],
        other => {
            return Err(value_error(format!(
                "estimator must be \"paper\", \"hill\", \"mcculloch\" or \"all\", got {other:?}"
            )));
        }
    };
    let xs = floats(x)?;
    if let Some((i, v)) = xs.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(value_error(format!(
            "element {i} (row-major, 0-based) is not a finite number: {v}"
        )));
    }
    let opts = Options {
        k1,
        hill_k: match (hill_k, hill_fraction, hill_grid) {
            (Some(k), _, _) => HillK::Fixed(k),
            (_, Some(f), _) => HillK::Fraction(f),
            (_, _, true) => HillK::Grid,
            _ => HillK::default(),
        },
        bootstrap,
        level,
        seed,
    };
    let results = py.detach(|| tail_index::estimate_each(&xs, methods, &opts));
    if let Some(why) = tail_index::none_computed(&results) {
        return Err(value_error(why));
    }
    to_python(py, &tail_index::report_json(&results))
}

/// Row-major float32/float64 data of a gradient, as a slice when the array is contiguous.
enum Row<'py> {
    F32(PyReadonlyArrayDyn<'py, f32>),
    F64(PyReadonlyArrayDyn<'py, f64>),
}

fn row<'py>(g: &Bound<'py, PyAny>) -> PyResult<Row<'py>> {
    if let Ok(a) = g.extract::<PyReadonlyArrayDyn<'py, f32>>()
        && a.is_c_contiguous()
    {
        return Ok(Row::F32(a));
    }
    if let Ok(a) = g.extract::<PyReadonlyArrayDyn<'py, f64>>()
        && a.is_c_contiguous()
    {
        return Ok(Row::F64(a));
    }
    // Anything else (other dtypes, strides, lists, __array__): a contiguous float64 copy.
    let np = g.py().import("numpy")?;
    let arr = np.call_method1("ascontiguousarray", (g, "float64"))?;
    Ok(Row::F64(arr.extract()?))
}

/// NoiseMeter(dim, layers=None, subsample=1_000_000, seed=0, batch_size=0, coordinates=None,
///            bootstrap=100, spectrum=0, spectrum_passes=4)
///
/// The paper's gradient-noise measurement streamed in two passes over the same P minibatch
/// gradients, in memory O(dim): `add_mean(g)` for every flattened gradient g (pass 1), then
/// `add(g)` for each again in the same order (pass 2, noise g − ḡ), then `result()`: the same dict
/// as a `noise_train` entry of `levylab train`. `layers` gives the layer sizes (summing to dim) for
/// per-layer estimates. Gradients may be float32 or float64 numpy arrays of any shape (flattened
/// row-major) or anything numpy can convert.
///
/// `coordinates` columns (default min(2000, dim)) get the iteration-wise tests (Anderson–Darling,
/// a per-coordinate α, power-law tests; 0: none). With `spectrum = k > 0` the report also has the top k eigenvalues of
/// the noise covariance: while `spectrum_passes_left` is positive, feed every gradient again in the
/// same order with `add_spectrum(g)`.
#[pyclass(name = "NoiseMeter", module = "levylab")]
struct PyNoiseMeter {
    meter: Option<levylab::stats::gradient_noise::NoiseMeter>,
}

#[pymethods]
impl PyNoiseMeter {
    #[new]
    #[pyo3(signature = (dim, layers=None, subsample=1_000_000, seed=0, batch_size=0,
                        coordinates=None, bootstrap=100, spectrum=0, spectrum_passes=4))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        dim: usize,
        layers: Option<Vec<usize>>,
        subsample: usize,
        seed: u64,
        batch_size: usize,
        coordinates: Option<usize>,
        bootstrap: usize,
        spectrum: usize,
        spectrum_passes: usize,
    ) -> PyResult<Self> {
        let default = levylab::stats::gradient_noise::DEFAULT_COORDINATES.min(dim);
        let coordinates = coordinates.unwrap_or(default);
        if coordinates > dim {
            return Err(value_error(format!(
                "coordinates = {coordinates} is more than dim = {dim}"
            )));
        }
        if spectrum_passes == 0 {
            return Err(value_error("spectrum_passes must be >= 1, got 0"));
        }
        let opts = levylab::stats::gradient_noise::MeterOptions {
            layers: layers.unwrap_or_default(),
            subsample,
            seed,
            batch_size,
            sampling: levylab::stats::gradient_noise::Sampling::Given,
            coordinates,
            bootstrap,
            spectrum,
            spectrum_passes,
        };
        let meter =
            levylab::stats::gradient_noise::NoiseMeter::open(dim, opts).map_err(value_error)?;
        Ok(PyNoiseMeter { meter: Some(meter) })
    }

    /// Pass 1: the next minibatch gradient.
    fn add_mean(&mut self, py: Python<'_>, g: &Bound<'_, PyAny>) -> PyResult<()> {
        self.feed(py, g, Pass::Mean)
    }

    /// Pass 2: the same minibatch gradient again, in the same order.
    fn add(&mut self, py: Python<'_>, g: &Bound<'_, PyAny>) -> PyResult<()> {
        self.feed(py, g, Pass::Noise)
    }

    /// Pass 3 and later (only with `spectrum > 0`): the same gradient again, in the same order,
    /// once per remaining spectrum pass.
    fn add_spectrum(&mut self, py: Python<'_>, g: &Bound<'_, PyAny>) -> PyResult<()> {
        self.feed(py, g, Pass::Spectrum)
    }

    /// Spectrum passes still to feed with `add_spectrum` (0 when none was asked for).
    #[getter]
    fn spectrum_passes_left(&self) -> PyResult<usize> {
        Ok(self.meter.as_ref().map_or(0, |m| m.spectrum_passes_left()))
    }

    /// The report (once both passes saw every minibatch); the meter is used up.
    fn result<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let meter = self
            .meter
            .take()
            .ok_or_else(|| value_error("result was already taken from this meter"))?;
        let report = py.detach(|| meter.result()).map_err(value_error)?;
        to_python(
            py,
            &serde_json::to_value(&report).expect("reports serialize"),
        )
    }
}

/// Which pass of the meter a gradient feeds.
#[derive(Clone, Copy)]
enum Pass {
    Mean,
    Noise,
    Spectrum,
}

impl PyNoiseMeter {
    /// Feeds one gradient to `pass`, read in place when it is a contiguous float array, with the
    /// GIL released.
    fn feed(&mut self, py: Python<'_>, g: &Bound<'_, PyAny>, pass: Pass) -> PyResult<()> {
        use levylab::stats::gradient_noise::{GradientNoiseError, NoiseMeter};
        fn step<T: Copy + Into<f64> + Sync>(
            m: &mut NoiseMeter,
            x: &[T],
            pass: Pass,
        ) -> Result<(), GradientNoiseError> {
            match pass {
                Pass::Mean => m.add_mean(x),
                Pass::Noise => m.add(x),
                Pass::Spectrum => m.add_spectrum(x),
            }
        }
        let meter = self.meter_mut()?;
        match row(g)? {
            Row::F32(a) => {
                let x = a.as_slice()?;
                py.detach(|| step(meter, x, pass))
            }
            Row::F64(a) => {
                let x = a.as_slice()?;
                py.detach(|| step(meter, x, pass))
            }
        }
        .map_err(value_error)
    }

    fn meter_mut(&mut self) -> PyResult<&mut levylab::stats::gradient_noise::NoiseMeter> {
        self.meter
            .as_mut()
            .ok_or_else(|| value_error("this meter's result was already taken"))
    }
}

/// The scenario in the file `path` (FileNotFoundError when there is none).
fn scenario_file(path: &str) -> PyResult<levylab::scenario::Scenario> {
    let p = std::path::Path::new(path);
    levylab::scenario::load(p).map_err(|e| {
        if p.exists() {
            value_error(e)
        } else {
            PyFileNotFoundError::new_err(e.to_string())
        }
    })
}

/// The scenario written as TOML `text` (named `<string>` in errors).
fn scenario_text(text: &str) -> PyResult<levylab::scenario::Scenario> {
    levylab::scenario::parse(text, std::path::Path::new("<string>")).map_err(value_error)
}

/// run(scenario, paths=None, seed=None, threads=None) -> dict
///
/// Runs the scenario file `scenario` and returns what summary.json holds (`complete` false, and
/// `points_total` beside the points done, only if it was stopped), plus `exit_times`: per point a
/// numpy array of every path's exit time (NaN where censored or non-finite) when the scenario keeps
/// per-path outcomes, else None. Nothing is written. The GIL is released while it runs; Ctrl-C
/// stops it cleanly and raises KeyboardInterrupt. FileNotFoundError if there is no such file.
#[pyfunction]
#[pyo3(signature = (scenario, paths=None, seed=None, threads=None))]
fn run<'py>(
    py: Python<'py>,
    scenario: &str,
    paths: Option<u64>,
    seed: Option<u64>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    run_scenario(py, scenario_file(scenario)?, paths, seed, threads)
}

/// run_toml(text, paths=None, seed=None, threads=None) -> dict
///
/// `run` for a scenario written as TOML text (named `<string>` in error messages).
#[pyfunction]
#[pyo3(signature = (text, paths=None, seed=None, threads=None))]
fn run_toml<'py>(
    py: Python<'py>,
    text: &str,
    paths: Option<u64>,
    seed: Option<u64>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    run_scenario(py, scenario_text(text)?, paths, seed, threads)
}

fn run_scenario<'py>(
    py: Python<'py>,
    mut s: levylab::scenario::Scenario,
    paths: Option<u64>,
    seed: Option<u64>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    if let Some(n) = paths {
        if n == 0 {
            return Err(value_error("paths must be >= 1, got 0"));
        }
        s.paths = n;
    }
    if let Some(seed) = seed {
        s.seed = seed;
    }
    if threads == Some(0) {
        return Err(value_error("threads must be >= 1, got 0"));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(value_error)?;
    let ctl = levylab::experiment::Control::default();
    let (summary, runs) = std::thread::scope(|scope| {
        let h = scope.spawn(|| pool.install(|| levylab::experiment::run_in_memory(&s, &ctl)));
        loop {
            if h.is_finished() {
                return h
                    .join()
                    .map_err(|_| value_error("a worker thread panicked"));
            }
            if let Err(e) = py.check_signals() {
                ctl.stop.store(true, std::sync::atomic::Ordering::SeqCst);
                let _ = h.join();
                return Err(e);
            }
            py.detach(|| std::thread::sleep(std::time::Duration::from_millis(20)));
        }
    })?;
    let out = to_python(
        py,
        &serde_json::to_value(&summary).expect("summaries serialize"),
    )?;
    let times: Vec<Option<Bound<'py, PyArray1<f64>>>> = runs
        .iter()
        .map(|r| {
            r.outcomes.as_ref().map(|os| {
                os.iter()
                    .map(|o| match o {
                        levylab::sde::Outcome::Exited { time, .. } => *time,
                        _ => f64::NAN,
                    })
                    .collect::<Vec<f64>>()
                    .into_pyarray(py)
            })
        })
        .collect();
    out.set_item("exit_times", times)?;
    Ok(out)
}

/// theory(scenario) -> dict
///
/// The theory predictions of every point of the scenario file `scenario` without simulating:
/// {"points": [{"label", "theory", and "targets" for events with several targets}]}, plus
/// "landscapes" (each d-dimensional landscape's critical points) when there are any, as
/// `levylab theory --json`. FileNotFoundError if there is no such file.
#[pyfunction]
fn theory<'py>(py: Python<'py>, scenario: &str) -> PyResult<Bound<'py, PyAny>> {
    let s = scenario_file(scenario)?;
    to_python(py, &levylab::scenario::theory_json(&s))
}

/// theory_toml(text) -> dict
///
/// `theory` for a scenario written as TOML text.
#[pyfunction]
fn theory_toml<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let s = scenario_text(text)?;
    to_python(py, &levylab::scenario::theory_json(&s))
}

/// levylab: Gaussian vs α-stable noise — exit times of Lévy-driven SDEs and the tail index of
/// SGD gradient noise.
#[pymodule]
fn _levylab(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sample, m)?)?;
    m.add_function(wrap_pyfunction!(cdf, m)?)?;
    m.add_function(wrap_pyfunction!(quantile, m)?)?;
    m.add_function(wrap_pyfunction!(estimate, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(run_toml, m)?)?;
    m.add_function(wrap_pyfunction!(theory, m)?)?;
    m.add_function(wrap_pyfunction!(theory_toml, m)?)?;
    m.add_class::<PyNoiseMeter>()?;
    Ok(())
}
