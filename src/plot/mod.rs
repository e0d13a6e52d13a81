//! The drawing layer: functions that take finished data and write a PNG, with the embedded DejaVu
//! Sans font (no system fonts needed). Nothing here runs a simulation or reads a result file:
//! [`crate::experiment`] draws its run figures with it, and [`crate::figures`] (above both)
//! computes the data of the paper's figures and draws them with it.
//!
//! Log axes are drawn by plotting log₁₀ of the data on linear axes with tick labels 10^v, which keeps
//! one code path for linear and logarithmic axes.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// The font every figure uses: DejaVu Sans (Bitstream Vera derivative; license in data/fonts).
static FONT: &[u8] = include_bytes!("../../data/fonts/DejaVuSans.ttf");

/// Errors while drawing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FigureError {
    /// plotters failed.
    #[error("cannot draw {path}: {message}")]
    Draw {
        /// The output.
        path: PathBuf,
        /// plotters' message.
        message: String,
    },
    /// Nothing to draw.
    #[error("cannot draw {0}: no finite data")]
    Empty(PathBuf),
}

fn register_font() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        // The bytes are a valid TrueType font compiled into the binary; failure is impossible short of
        // a corrupted build, and then figures would show no text rather than crash.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// The palette for series (colour-blind-safe Okabe–Ito order).
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(0, 0, 0),
];

/// One data series: Monte Carlo points with standard errors and theory curves.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// (x, y, standard error of y).
    pub points: Vec<(f64, f64, f64)>,
    /// Theory curves (name, (x, y) points), drawn dashed in the series colour.
    pub theory: Vec<(String, Vec<(f64, f64)>)>,
}

/// An axis: label and whether it is logarithmic.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Axis {
    /// Label with unit.
    pub label: String,
    /// Logarithmic scale.
    pub log: bool,
}

/// A legend sample drawn with the same dash length as its curve (so two theory curves of one
/// colour stay distinguishable in the legend): three dashes of `dash` px with 5 px gaps.
fn dashed_legend<'a, DB: DrawingBackend + 'a>(
    lx: i32,
    ly: i32,
    dash: u32,
    style: ShapeStyle,
) -> impl plotters::element::IntoDynElement<'a, DB, (i32, i32)> + 'a {
    let d = dash as i32;
    let seg = move |k: i32| PathElement::new(vec![(k * (d + 5), 0), (k * (d + 5) + d, 0)], style);
    EmptyElement::at((lx, ly)) + seg(0) + seg(1) + seg(2)
}

fn tf(v: f64, log: bool) -> Option<f64> {
    let t = if log {
        (v > 0.0).then(|| v.log10())
    } else {
        Some(v)
    };
    t.filter(|t| t.is_finite())
}

/// Round tick positions for an axis over [lo, hi] (in drawing coordinates: log10 of the value on
/// a log axis): on a linear axis multiples of 1, 2 or 5 × 10ᵏ, about six of them; on a log axis
/// the powers of ten (every other one or sparser over many decades), or the first of 1-2-5,
/// 1-2-3-5-7 and 1…9 within each decade that gives at least four ticks.
fn key_points(lo: f64, hi: f64, log: bool) -> Vec<f64> {
    if !(hi > lo) || !lo.is_finite() || !hi.is_finite() {
        return vec![lo];
    }
    if !log {
        let raw = (hi - lo) / 6.0;
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * mag)
            .find(|&s| s >= raw)
            .unwrap_or(10.0 * mag);
        let first = (lo / step).ceil() as i64;
        let last = (hi / step).floor() as i64;
        return (first..=last).map(|k| k as f64 * step).collect();
    }
    let decades = hi - lo;
    if decades < 0.5 {
        // Within a factor of 3 a log axis looks linear: round values, placed logarithmically.
        return key_points(10f64.powf(lo), 10f64.powf(hi), false)
            .into_iter()
            .filter(|&v| v > 0.0)
            .map(f64::log10)
            .collect();
    }
    if decades > 2.5 {
        let every = (decades / 7.0).ceil().max(1.0) as i64;
        let first = lo.ceil() as i64;
        return (first..=hi.floor() as i64)
            .filter(|k| (k - first) % every == 0)
            .map(|k| k as f64)
            .collect();
    }
    for mantissas in [
        &[1.0, 2.0, 5.0][..],
        &[1.0, 2.0, 3.0, 5.0, 7.0][..],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0][..],
    ] {
        let pts: Vec<f64> = (lo.floor() as i64..=hi.ceil() as i64)
            .flat_map(|k| {
                mantissas
                    .iter()
                    .map(move |m| (m * 10f64.powi(k as i32)).log10())
            })
            .filter(|&t| t >= lo - 1e-9 && t <= hi + 1e-9)
            .collect();
        if pts.len() >= 4 {
            return pts;
        }
    }
    vec![lo, hi]
}

/// A linear coordinate whose mesh lines and labels sit at [`key_points`].
struct Ticked {
    range: RangedCoordf64,
    keys: Vec<f64>,
}

impl Ticked {
    fn new(lo: f64, hi: f64, log: bool) -> Self {
        Ticked {
            range: (lo..hi).into(),
            keys: key_points(lo, hi, log),
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;
    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.range.map(value, limit)
    }
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.keys.clone()
        }
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.range.range()
    }
}

/// The caption cut into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = vec![String::new()];
    for word in text.split(' ') {
        let cur = lines.last_mut().expect("one line at least");
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
    }
    lines
}

fn tick(v: f64, log: bool) -> String {
    let x = if log { 10f64.powf(v) } else { v };
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        return format!("{x:.1e}");
    }
    // Four significant digits (ticks are round, see `key_points`; close ticks on a narrow range,
    // e.g. accuracies 0.9845 and 0.985, stay distinct); trailing zeros dropped.
    let digits = 3;
    let decimals = if a == 0.0 {
        0
    } else {
        (digits - a.log10().floor() as i32).max(0) as usize
    };
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn draw_err<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> FigureError + '_ {
    move |e| FigureError::Draw {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Scatter-with-error-bars plus dashed theory curves, one colour per series, with a caption line.
pub fn series_plot(
    out: &Path,
    title: &str,
    caption: &str,
    x: &Axis,
    y: &Axis,
    series: &[Series],
) -> Result<(), FigureError> {
    register_font();
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for s in series {
        for &(px, py, se) in &s.points {
            if let (Some(a), Some(b)) = (tf(px, x.log), tf(py, y.log)) {
                xs.push(a);
                ys.push(b);
                if let Some(hi) = tf(py + se, y.log) {
                    ys.push(hi);
                }
            }
        }
        for (_, c) in &s.theory {
            for &(px, py) in c {
                if let (Some(a), Some(b)) = (tf(px, x.log), tf(py, y.log)) {
                    xs.push(a);
                    ys.push(b);
                }
            }
        }
    }
    if xs.is_empty() {
        return Err(FigureError::Empty(out.to_path_buf()));
    }
    let pad = |lo: f64, hi: f64| {
        let w = (hi - lo).abs().max(if lo == hi { 0.5 } else { 0.0 });
        (lo - 0.08 * w, hi + 0.08 * w)
    };
    let (x0, x1) = pad(
        xs.iter().copied().fold(f64::INFINITY, f64::min),
        xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let (y0, y1) = pad(
        ys.iter().copied().fold(f64::INFINITY, f64::min),
        ys.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let err = draw_err(out);
    let root = BitMapBackend::new(out, (1000, 680)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let (main, foot) = root.split_vertically(640);
    foot.draw(&Text::new(
        caption.to_string(),
        (12, 10),
        ("sans-serif", 15).into_font().color(&RGBColor(80, 80, 80)),
    ))
    .map_err(&err)?;
    let mut chart = ChartBuilder::on(&main)
        .caption(title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(78)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(&err)?;
    chart
        .configure_mesh()
        .x_desc(x.label.as_str())
        .y_desc(y.label.as_str())
        .x_label_formatter(&|v| tick(*v, x.log))
        .y_label_formatter(&|v| tick(*v, y.log))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 18))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(&err)?;
    for (i, s) in series.iter().enumerate() {
        let c = PALETTE[i % PALETTE.len()];
        let pts: Vec<(f64, f64, f64, f64)> = s
            .points
            .iter()
            .filter_map(|&(px, py, se)| {
                let (a, b) = (tf(px, x.log)?, tf(py, y.log)?);
                let lo = tf(py - se, y.log).unwrap_or(y0);
                let hi = tf(py + se, y.log).unwrap_or(b);
                Some((a, b, lo, hi))
            })
            .collect();
        chart
            .draw_series(pts.iter().map(|&(a, _, lo, hi)| {
                ErrorBar::new_vertical(a, lo, 0.5 * (lo + hi), hi, c.stroke_width(2), 8)
            }))
            .map_err(&err)?;
        chart
            .draw_series(
                pts.iter()
                    .map(|&(a, b, _, _)| Circle::new((a, b), 5, c.filled())),
            )
            .map_err(&err)?
            .label(format!("{} (Monte Carlo ± SE)", s.label))
            .legend(move |(lx, ly)| Circle::new((lx + 10, ly), 5, c.filled()));
        for (j, (name, curve)) in s.theory.iter().enumerate() {
            let line: Vec<(f64, f64)> = curve
                .iter()
                .filter_map(|&(px, py)| Some((tf(px, x.log)?, tf(py, y.log)?)))
                .collect();
            if line.is_empty() {
                continue;
            }
            let style = if j == 0 {
                c.stroke_width(2)
            } else {
                c.mix(0.6).stroke_width(2)
            };
            let dash = [8u32, 5, 3][j % 3];
            chart
                .draw_series(DashedLineSeries::new(line, dash, 5, style))
                .map_err(&err)?
                .label(format!("{} — {}", s.label, name))
                .legend(move |(lx, ly)| dashed_legend(lx, ly, dash, style));
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .label_font(("sans-serif", 15))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(&err)?;
    root.present().map_err(&err)?;
    Ok(())
}

/// One data set drawn in a panel.
#[derive(Clone, Debug, PartialEq, Default, serde::Serialize)]
pub struct Trace {
    /// Legend label ("" for no legend entry).
    pub label: String,
    /// Markers with vertical error bars: (x, y, low, high); low = high = y draws no bar.
    pub markers: Vec<(f64, f64, f64, f64)>,
    /// A solid line through these points.
    pub line: Vec<(f64, f64)>,
    /// Dashed (theory) lines, each with its own legend label.
    pub dashed: Vec<(String, Vec<(f64, f64)>)>,
    /// Colour index into [`PALETTE`].
    pub color: usize,
    /// Thin grey segments (contour lines of a landscape), drawn first, without a legend entry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contour: Vec<[(f64, f64); 2]>,
}

/// One chart inside a figure.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Panel {
    /// Panel title.
    pub title: String,
    /// x axis.
    pub x: Axis,
    /// y axis.
    pub y: Axis,
    /// What to draw.
    pub traces: Vec<Trace>,
    /// Fixed y range (in data units) instead of the data's extent.
    pub y_range: Option<(f64, f64)>,
    /// Fixed x range (in data units) instead of the data's extent; what lies outside is clipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_range: Option<(f64, f64)>,
    /// Where the legend goes (upper right unless the data are there).
    #[serde(skip)]
    pub legend: LegendCorner,
}

/// A corner of a panel for its legend.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LegendCorner {
    /// Upper right.
    #[default]
    UpperRight,
    /// Upper left.
    UpperLeft,
    /// Lower right.
    LowerRight,
}

/// Size of every multi-panel figure, in pixels.
pub const FIGURE_SIZE: (u32, u32) = (1400, 900);

fn extent(p: &Panel) -> Option<((f64, f64), (f64, f64))> {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    let mut add = |x: f64, y: f64| {
        if let (Some(a), Some(b)) = (tf(x, p.x.log), tf(y, p.y.log)) {
            xs.push(a);
            ys.push(b);
        }
    };
    for t in &p.traces {
        for &(x, y, lo, hi) in &t.markers {
            add(x, y);
            add(x, lo);
            add(x, hi);
        }
        for &(x, y) in t
            .line
            .iter()
            .chain(t.dashed.iter().flat_map(|d| d.1.iter()))
            .chain(t.contour.iter().flatten())
        {
            add(x, y);
        }
    }
    if xs.is_empty() {
        return None;
    }
    let mm = |v: &[f64]| {
        (
            v.iter().copied().fold(f64::INFINITY, f64::min),
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let pad = |(lo, hi): (f64, f64)| {
        let w = if hi > lo { hi - lo } else { 1.0 };
        (lo - 0.06 * w, hi + 0.06 * w)
    };
    let yr = match p.y_range {
        Some((a, b)) => (tf(a, p.y.log)?, tf(b, p.y.log)?),
        None => pad(mm(&ys)),
    };
    let xr = match p.x_range {
        Some((a, b)) => (tf(a, p.x.log)?, tf(b, p.x.log)?),
        None => pad(mm(&xs)),
    };
    Some((xr, yr))
}

/// A figure of `rows × cols` panels with a title and a caption line (the scenario or config that
/// produced it). Draws only; every number comes from the caller.
pub fn panels(
    out: &Path,
    title: &str,
    caption: &str,
    (rows, cols): (usize, usize),
    panels: &[Panel],
) -> Result<(), FigureError> {
    register_font();
    let err = draw_err(out);
    let root = BitMapBackend::new(out, FIGURE_SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let (head, rest) = root.split_vertically(46);
    let lines = wrap(caption, 175);
    let foot_height = 10 + 20 * lines.len() as u32;
    let (body, foot) = rest.split_vertically(FIGURE_SIZE.1 - 46 - foot_height);
    head.draw(&Text::new(
        title.to_string(),
        (14, 10),
        ("sans-serif", 26).into_font(),
    ))
    .map_err(&err)?;
    for (i, line) in lines.iter().enumerate() {
        foot.draw(&Text::new(
            line.clone(),
            (14, 6 + 20 * i as i32),
            ("sans-serif", 15).into_font().color(&RGBColor(80, 80, 80)),
        ))
        .map_err(&err)?;
    }
    let areas = body.split_evenly((rows, cols));
    for (area, p) in areas.iter().zip(panels) {
        let Some(((x0, x1), (y0, y1))) = extent(p) else {
            continue;
        };
        let mut chart = ChartBuilder::on(area)
            .caption(p.title.as_str(), ("sans-serif", 19))
            .margin(10)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(Ticked::new(x0, x1, p.x.log), Ticked::new(y0, y1, p.y.log))
            .map_err(&err)?;
        let (xl, yl) = (p.x.log, p.y.log);
        chart
            .configure_mesh()
            .x_desc(p.x.label.as_str())
            .y_desc(p.y.label.as_str())
            .x_label_formatter(&|v| tick(*v, xl))
            .y_label_formatter(&|v| tick(*v, yl))
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .light_line_style(RGBColor(238, 238, 238))
            .draw()
            .map_err(&err)?;
        let mut any_label = false;
        for t in &p.traces {
            if !t.contour.is_empty() {
                chart
                    .draw_series(t.contour.iter().filter_map(|[a, b]| {
                        let a = (tf(a.0, xl)?, tf(a.1, yl)?);
                        let b = (tf(b.0, xl)?, tf(b.1, yl)?);
                        Some(PathElement::new(
                            vec![a, b],
                            RGBColor(170, 170, 170).stroke_width(1),
                        ))
                    }))
                    .map_err(&err)?;
            }
        }
        for t in &p.traces {
            let c = PALETTE[t.color % PALETTE.len()];
            let tx = |x: f64| tf(x, xl);
            let ty = |y: f64| tf(y, yl);
            if !t.line.is_empty() {
                let pts: Vec<(f64, f64)> = t
                    .line
                    .iter()
                    .filter_map(|&(x, y)| Some((tx(x)?, ty(y)?)))
                    .collect();
                // plotters joins thick polylines with miters, which spike at the sharp turns of a
                // jump path: dense lines are drawn 1 px wide.
                let width = if pts.len() > 400 { 1 } else { 2 };
                let s = if p.x_range.is_some() || p.y_range.is_some() {
                    // A fixed range: each segment clipped to it (plotters would draw what lies
                    // outside along the border).
                    let segs: Vec<[(f64, f64); 2]> = pts
                        .windows(2)
                        .filter_map(|w| clip_segment(w[0], w[1], (x0, x1), (y0, y1)))
                        .collect();
                    chart
                        .draw_series(
                            segs.into_iter()
                                .map(|[a, b]| PathElement::new(vec![a, b], c.stroke_width(width))),
                        )
                        .map_err(&err)?
                } else {
                    chart
                        .draw_series(LineSeries::new(pts, c.stroke_width(width)))
                        .map_err(&err)?
                };
                if !t.label.is_empty() && t.markers.is_empty() {
                    any_label = true;
                    s.label(t.label.clone()).legend(move |(lx, ly)| {
                        PathElement::new(vec![(lx, ly), (lx + 20, ly)], c.stroke_width(2))
                    });
                }
            }
            if !t.markers.is_empty() {
                let pts: Vec<(f64, f64, f64, f64)> = t
                    .markers
                    .iter()
                    .filter_map(|&(x, y, lo, hi)| {
                        Some((tx(x)?, ty(y)?, ty(lo).unwrap_or(y0), ty(hi).unwrap_or(y1)))
                    })
                    .collect();
                chart
                    .draw_series(pts.iter().filter(|p| p.2 < p.3).map(|&(a, b, lo, hi)| {
                        ErrorBar::new_vertical(a, lo, b, hi, c.stroke_width(2), 8)
                    }))
                    .map_err(&err)?;
                let s = chart
                    .draw_series(
                        pts.iter()
                            .map(|&(a, b, _, _)| Circle::new((a, b), 5, c.filled())),
                    )
                    .map_err(&err)?;
                if !t.label.is_empty() {
                    any_label = true;
                    s.label(t.label.clone())
                        .legend(move |(lx, ly)| Circle::new((lx + 10, ly), 5, c.filled()));
                }
            }
            for (j, (name, d)) in t.dashed.iter().enumerate() {
                let pts: Vec<(f64, f64)> = d
                    .iter()
                    .filter_map(|&(x, y)| Some((tx(x)?, ty(y)?)))
                    .collect();
                if pts.is_empty() {
                    continue;
                }
                let style = c.stroke_width(2);
                let dash = [9u32, 5, 3][j % 3];
                let s = chart
                    .draw_series(DashedLineSeries::new(pts, dash, 5, style))
                    .map_err(&err)?;
                if !name.is_empty() {
                    any_label = true;
                    s.label(name.clone())
                        .legend(move |(lx, ly)| dashed_legend(lx, ly, dash, style));
                }
            }
        }
        if any_label {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(180, 180, 180))
                .label_font(("sans-serif", 13))
                .position(match p.legend {
                    LegendCorner::UpperRight => SeriesLabelPosition::UpperRight,
                    LegendCorner::UpperLeft => SeriesLabelPosition::UpperLeft,
                    LegendCorner::LowerRight => SeriesLabelPosition::LowerRight,
                })
                .draw()
                .map_err(&err)?;
        }
    }
    root.present().map_err(&err)?;
    Ok(())
}

/// The part of the segment a–b inside the box (Liang–Barsky), if any.
fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> Option<[(f64, f64); 2]> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - x0),
        (dx, x1 - a.0),
        (-dy, a.1 - y0),
        (dy, y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 <= t1).then_some([
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ])
}

/// A histogram as a step line: bin edges `edges` (n + 1) and densities `d` (n).
pub fn steps(edges: &[f64], d: &[f64]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(2 * d.len() + 2);
    for (i, &v) in d.iter().enumerate() {
        out.push((edges[i], v));
        out.push((edges[i + 1], v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    /// Ticks sit on round values: multiples of 1/2/5·10ᵏ on linear axes, powers of ten or
    /// 1-2-5 per decade on log axes, round linear values on narrow log axes.
    #[test]
    fn key_points_are_round() {
        assert!(close(
            &key_points(0.0, 1.0, false),
            &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
        ));
        assert!(close(&key_points(0.73, 1.41, false), &[0.8, 1.0, 1.2, 1.4]));
        // 1 … 10⁶ on a log axis: every power of ten.
        assert!(close(
            &key_points(0.0, 6.0, true),
            &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        ));
        // 8 … 64 (0.9 to 1.8 in log10): 10, 20, 30, 50; 64 … 1024: 100, 200, 500, 1000.
        let lg = |v: &[f64]| v.iter().map(|x: &f64| x.log10()).collect::<Vec<_>>();
        assert!(close(
            &key_points(8f64.log10(), 64f64.log10(), true),
            &lg(&[10.0, 20.0, 30.0, 50.0])
        ));
        assert!(close(
            &key_points(64f64.log10(), 1024f64.log10(), true),
            &lg(&[100.0, 200.0, 500.0, 1000.0])
        ));
        // 1.226 … 1.248: linear ticks placed on the log axis.
        assert!(close(
            &key_points(1.226f64.log10(), 1.248f64.log10(), true),
            &lg(&[1.23, 1.235, 1.24, 1.245])
        ));
        for (lo, hi, log) in [(0.1, 0.3, true), (-5.0, 17.0, true), (-3.0, 2.0, false)] {
            let k = key_points(lo, hi, log);
            assert!(
                k.len() >= 2 && k.iter().all(|&t| t >= lo - 1e-9 && t <= hi + 1e-9),
                "{k:?}"
            );
        }
    }

    #[test]
    fn captions_wrap_at_spaces() {
        let w = wrap("aaa bbb ccc dddd", 8);
        assert_eq!(w, vec!["aaa bbb", "ccc dddd"]);
        assert_eq!(wrap("short", 80), vec!["short"]);
    }
}
