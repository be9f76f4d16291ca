//! PNG plots of an analysis, drawn with plotters into memory and written atomically. Text uses the
//! DejaVu Sans font compiled into the binary, so plots work headless, without system fonts.
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::TrainError;
use crate::analysis::StateRow;

const WIDTH: u32 = 900;
const HEIGHT: u32 = 640;

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

fn ensure_font() -> Result<(), TrainError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    if *REGISTERED.get_or_init(|| register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular()).is_ok()) {
        Ok(())
    } else {
        Err(TrainError::Data("the built-in plot font could not be loaded".into()))
    }
}

/// Draw with `draw` on a white canvas and write it as an RGB PNG to `path`.
fn render(path: &Path, draw: impl FnOnce(&Area<'_>) -> Result<(), String>) -> Result<(), TrainError> {
    ensure_font()?;
    let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        let fail = |e: String| TrainError::Data(format!("{}: cannot draw the plot ({e})", path.display()));
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        draw(&root).map_err(fail)?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    rbf_io::atomic::write_atomically(path, |w| {
        let mut encoder = png::Encoder::new(w, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(std::io::Error::other)?;
        writer.write_image_data(&rgb).map_err(std::io::Error::other)?;
        writer.finish().map_err(std::io::Error::other)
    })?;
    Ok(())
}

/// The range of the finite values, padded by 5% (and widened when all are equal).
fn padded_range(values: impl Iterator<Item = f64>) -> Range<f64> {
    let (lo, hi) = values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    let pad = if hi - lo > 1e-12 { 0.05 * (hi - lo) } else { 0.5_f64.max(lo.abs() * 0.1) };
    (lo - pad)..(hi + pad)
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A histogram of `values` in 40 bins.
///
/// # Errors
/// When the plot cannot be drawn or written, naming `path`.
pub fn histogram(path: &Path, values: &[f64], title: &str, x_label: &str) -> Result<(), TrainError> {
    const BINS: usize = 40;
    let range = padded_range(values.iter().copied());
    let width = (range.end - range.start) / BINS as f64;
    let mut counts = [0usize; BINS];
    for v in values.iter().filter(|v| v.is_finite()) {
        counts[(((v - range.start) / width) as usize).min(BINS - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
    render(path, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(range.clone(), 0.0..top)
            .map_err(err)?;
        chart.configure_mesh().x_desc(x_label).y_desc("particles").label_style(("sans-serif", 16)).draw().map_err(err)?;
        chart
            .draw_series(counts.iter().enumerate().map(|(k, &c)| {
                let x0 = range.start + k as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width, c as f64)], BLUE.mix(0.7).filled())
            }))
            .map_err(err)?;
        Ok(())
    })
}

/// A color from blue (0) to red (1).
fn gradient(t: f64) -> RGBColor {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.5 };
    RGBColor((40.0 + 200.0 * t) as u8, (60.0 + 80.0 * (1.0 - (2.0 * t - 1.0).abs())) as u8, (230.0 - 200.0 * t) as u8)
}

/// A scatter plot of `(xs, ys)`, colored from blue to red by `colors` when given.
///
/// # Errors
/// When the plot cannot be drawn or written, naming `path`.
pub fn scatter(path: &Path, xs: &[f64], ys: &[f64], colors: Option<&[f64]>, title: &str, x_label: &str, y_label: &str) -> Result<(), TrainError> {
    let (x_range, y_range) = (padded_range(xs.iter().copied()), padded_range(ys.iter().copied()));
    let color_range = colors.map(|c| padded_range(c.iter().copied()));
    let radius = if xs.len() > 5000 { 1 } else { 2 };
    render(path, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(x_range.clone(), y_range.clone())
            .map_err(err)?;
        chart.configure_mesh().x_desc(x_label).y_desc(y_label).label_style(("sans-serif", 16)).draw().map_err(err)?;
        chart
            .draw_series(xs.iter().zip(ys).enumerate().filter(|(_, (x, y))| x.is_finite() && y.is_finite()).map(|(i, (&x, &y))| {
                let color = match (colors, &color_range) {
                    (Some(c), Some(r)) => gradient((c[i] - r.start) / (r.end - r.start)),
                    _ => RGBColor(31, 119, 180),
                };
                Circle::new((x, y), radius, color.mix(0.6).filled())
            }))
            .map_err(err)?;
        Ok(())
    })
}

/// The paper's Fig. 4: Cα RMSE (blue line) at every true coordinate, over the number of particles
/// at each (red bars, right axis).
///
/// # Errors
/// When the plot cannot be drawn or written, naming `path`.
pub fn rmse_per_state(path: &Path, rows: &[StateRow]) -> Result<(), TrainError> {
    let x_range = padded_range(rows.iter().map(|r| r.coordinate));
    let top = rows.iter().filter_map(|r| r.ca_rmse).fold(0.0, f64::max).max(0.5) * 1.15;
    let most = rows.iter().map(|r| r.particles).max().unwrap_or(1).max(1) as f64 * 1.1;
    let spacing = if rows.len() > 1 { (x_range.end - x_range.start) / rows.len() as f64 } else { 0.1 };
    render(path, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Cα RMSE at each true coordinate (median latent)", ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .right_y_label_area_size(64)
            .build_cartesian_2d(x_range.clone(), 0.0..top)
            .map_err(err)?
            .set_secondary_coord(x_range.clone(), 0.0..most);
        chart
            .configure_mesh()
            .x_desc("true reaction coordinate")
            .y_desc("Cα RMSE (Å)")
            .label_style(("sans-serif", 16))
            .draw()
            .map_err(err)?;
        chart.configure_secondary_axes().y_desc("particles").label_style(("sans-serif", 16)).draw().map_err(err)?;
        chart
            .draw_secondary_series(rows.iter().map(|r| {
                let half = 0.4 * spacing;
                Rectangle::new([(r.coordinate - half, 0.0), (r.coordinate + half, r.particles as f64)], RED.mix(0.3).filled())
            }))
            .map_err(err)?;
        let points: Vec<(f64, f64)> = rows.iter().filter_map(|r| r.ca_rmse.map(|e| (r.coordinate, e))).collect();
        chart.draw_series(LineSeries::new(points.clone(), BLUE.stroke_width(2))).map_err(err)?;
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, BLUE.filled()))).map_err(err)?;
        Ok(())
    })
}

/// Several Cα-RMSE-per-coordinate curves in one plot (the paper's Fig. 4 panels, overlaid): one
/// colour and legend entry per named series, each a list of segments of `(true coordinate, RMSE)`
/// points — a line joins the points of a segment, not the segments (so empty stretches of the
/// coordinate show as gaps).
///
/// # Errors
/// When the plot cannot be drawn or written, naming `path`.
pub fn rmse_curves(path: &Path, series: &[(String, Vec<Vec<(f64, f64)>>)]) -> Result<(), TrainError> {
    let points = || series.iter().flat_map(|(_, segments)| segments.iter().flatten());
    let x_range = padded_range(points().map(|&(x, _)| x));
    let top = points().map(|&(_, y)| y).fold(0.0, f64::max).max(0.5) * 1.15;
    render(path, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Cα RMSE at each true coordinate (median latent)", ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(x_range.clone(), 0.0..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("true reaction coordinate")
            .y_desc("Cα RMSE (Å)")
            .label_style(("sans-serif", 16))
            .draw()
            .map_err(err)?;
        for (k, (name, segments)) in series.iter().enumerate() {
            let color = Palette99::pick(k).to_rgba();
            chart
                .draw_series(segments.iter().map(|segment| PathElement::new(segment.clone(), color.stroke_width(2))))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
            chart.draw_series(segments.iter().flatten().map(|&p| Circle::new(p, 3, color.filled()))).map_err(err)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 16))
            .draw()
            .map_err(err)?;
        Ok(())
    })
}
