//! Figures: one function per figure, taking finished data and writing a PNG. Nothing here computes
//! results; everything is drawn with the embedded DejaVu Sans font (no system fonts needed).
//!
//! Log axes are drawn by plotting log₁₀ of the data on linear axes with tick labels 10^v, which keeps
//! one code path for linear and logarithmic axes.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

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
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Label with unit.
    pub label: String,
    /// Logarithmic scale.
    pub log: bool,
}

fn tf(v: f64, log: bool) -> Option<f64> {
    let t = if log {
        (v > 0.0).then(|| v.log10())
    } else {
        Some(v)
    };
    t.filter(|t| t.is_finite())
}

fn tick(v: f64, log: bool) -> String {
    let x = if log { 10f64.powf(v) } else { v };
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        return format!("{x:.1e}");
    }
    // Three significant digits, trailing zeros dropped.
    let decimals = if a == 0.0 {
        0
    } else {
        (2 - a.log10().floor() as i32).max(0) as usize
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
                .legend(move |(lx, ly)| PathElement::new(vec![(lx, ly), (lx + 20, ly)], style));
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
