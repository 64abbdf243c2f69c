//! The loss and accuracy curves of a training run as a PNG (`strata train --plot FILE`):
//! two panels, each with the training curve (a moving average of the per-step values) and the
//! test evaluations (markers), axes with labelled ticks. It draws on an RGB canvas with a 3×5
//! pixel font and encodes with [`crate::png`], so plotting costs no extra dependency.

use crate::png::encode_rgb;
use crate::{NnError, Result};
use std::path::Path;

/// What a run measured: `(step, loss, accuracy)` per training step and per test evaluation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainingCurves {
    pub train: Vec<(u64, f64, f64)>,
    pub test: Vec<(u64, f64, f64)>,
}

const WIDTH: usize = 1000;
const HEIGHT: usize = 420;
const TRAIN_COLOR: [u8; 3] = [31, 119, 180];
const TEST_COLOR: [u8; 3] = [230, 110, 20];
const AXIS_COLOR: [u8; 3] = [60, 60, 60];
const GRID_COLOR: [u8; 3] = [225, 225, 225];

/// 3×5 glyphs, one row per entry, bit 2 the leftmost pixel.
fn glyph(c: char) -> [u8; 5] {
    match c {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '.' => [0, 0, 0, 0, 2],
        '-' => [0, 0, 7, 0, 0],
        '+' => [0, 2, 7, 2, 0],
        '%' => [5, 1, 2, 4, 5],
        '/' => [1, 1, 2, 4, 4],
        'a' => [0, 3, 5, 5, 3],
        'c' => [0, 3, 4, 4, 3],
        'e' => [2, 5, 7, 4, 3],
        'i' => [2, 0, 2, 2, 2],
        'l' => [6, 2, 2, 2, 7],
        'n' => [0, 6, 5, 5, 5],
        'o' => [0, 2, 5, 5, 2],
        'p' => [0, 6, 5, 6, 4],
        'r' => [0, 3, 4, 4, 4],
        's' => [0, 3, 6, 1, 6],
        't' => [2, 7, 2, 2, 3],
        'u' => [0, 5, 5, 5, 3],
        'v' => [0, 5, 5, 5, 2],
        'y' => [5, 5, 3, 1, 6],
        _ => [0; 5],
    }
}

struct Canvas {
    rgb: Vec<u8>,
}

impl Canvas {
    fn new() -> Canvas {
        Canvas {
            rgb: vec![255; WIDTH * HEIGHT * 3],
        }
    }
    fn put(&mut self, x: i64, y: i64, color: [u8; 3]) {
        if (0..WIDTH as i64).contains(&x) && (0..HEIGHT as i64).contains(&y) {
            let i = 3 * (y as usize * WIDTH + x as usize);
            self.rgb[i..i + 3].copy_from_slice(&color);
        }
    }
    /// A line two pixels wide (Bresenham).
    fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), color: [u8; 3], wide: bool) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            self.put(x, y, color);
            if wide {
                self.put(x, y + 1, color);
            }
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }
    /// Text at scale 2 (6×10 pixels a glyph, 8 apart) with its top-left corner at (x, y).
    fn text(&mut self, x: i64, y: i64, s: &str, color: [u8; 3]) {
        for (k, c) in s.chars().enumerate() {
            for (row, bits) in glyph(c).iter().enumerate() {
                for col in 0..3 {
                    if bits & (4 >> col) != 0 {
                        for (ox, oy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                            let px = x + 8 * k as i64 + 2 * col + ox;
                            self.put(px, y + 2 * row as i64 + oy, color);
                        }
                    }
                }
            }
        }
    }
    fn marker(&mut self, (x, y): (i64, i64), color: [u8; 3]) {
        for dx in -3..=3 {
            for dy in -3..=3 {
                self.put(x + dx, y + dy, color);
            }
        }
    }
}

fn text_width(s: &str) -> i64 {
    8 * s.chars().count() as i64
}

/// About five round tick values covering `[lo, hi]`.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(1e-12);
    let raw = span / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

fn label(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if (1e-3..1e5).contains(&a) {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.1e}")
    }
}

/// A moving average over `window` values (shorter at the start).
fn smooth(values: &[(f64, f64)], window: usize) -> Vec<(f64, f64)> {
    let mut sum = 0.0;
    let mut out = Vec::with_capacity(values.len());
    for (i, &(x, y)) in values.iter().enumerate() {
        sum += y;
        if i >= window {
            sum -= values[i - window].1;
        }
        out.push((x, sum / (i + 1).min(window) as f64));
    }
    out
}

struct Series {
    color: [u8; 3],
    points: Vec<(f64, f64)>,
    markers: bool,
}

/// One panel in the pixel box `[left, left + width) × [0, HEIGHT)`.
fn panel(canvas: &mut Canvas, left: i64, width: i64, title: &str, series: &[Series]) {
    let (ml, mr, mt, mb) = (70, 20, 40, 40);
    let (x0, x1, y0, y1) = (left + ml, left + width - mr, mt, HEIGHT as i64 - mb);
    let finite = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| p.0.is_finite() && p.1.is_finite());
    let (mut xlo, mut xhi, mut ylo, mut yhi) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in finite {
        (xlo, xhi, ylo, yhi) = (xlo.min(x), xhi.max(x), ylo.min(y), yhi.max(y));
    }
    canvas.text(
        left + (width - text_width(title)) / 2,
        12,
        title,
        AXIS_COLOR,
    );
    if xlo > xhi {
        return;
    }
    if xhi - xlo < 1.0 {
        xhi = xlo + 1.0;
    }
    let pad = ((yhi - ylo) * 0.05).max(1e-6);
    (ylo, yhi) = (ylo - pad, yhi + pad);
    let px = |x: f64| x0 + ((x - xlo) / (xhi - xlo) * (x1 - x0) as f64).round() as i64;
    let py = |y: f64| y1 - ((y - ylo) / (yhi - ylo) * (y1 - y0) as f64).round() as i64;
    for t in ticks(ylo, yhi) {
        let y = py(t);
        canvas.line((x0, y), (x1, y), GRID_COLOR, false);
        let s = label(t);
        canvas.text(x0 - 6 - text_width(&s), y - 5, &s, AXIS_COLOR);
    }
    for t in ticks(xlo, xhi) {
        let x = px(t);
        canvas.line((x, y0), (x, y1), GRID_COLOR, false);
        let s = label(t);
        canvas.text(x - text_width(&s) / 2, y1 + 8, &s, AXIS_COLOR);
    }
    canvas.text(x1 - text_width("step"), y1 + 24, "step", AXIS_COLOR);
    canvas.line((x0, y0), (x0, y1), AXIS_COLOR, false);
    canvas.line((x0, y1), (x1, y1), AXIS_COLOR, false);
    for s in series {
        let pts: Vec<(i64, i64)> = s
            .points
            .iter()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .map(|&(x, y)| (px(x), py(y)))
            .collect();
        for w in pts.windows(2) {
            canvas.line(w[0], w[1], s.color, true);
        }
        if s.markers || pts.len() == 1 {
            for &p in &pts {
                canvas.marker(p, s.color);
            }
        }
    }
    canvas.text(x1 - 110, y0 + 6, "train", TRAIN_COLOR);
    canvas.text(x1 - 50, y0 + 6, "test", TEST_COLOR);
}

/// The plot of `curves` as PNG bytes.
pub fn render_training_plot(curves: &TrainingCurves) -> Result<Vec<u8>> {
    let mut canvas = Canvas::new();
    let window = (curves.train.len() / 50).max(1);
    let column = |points: &[(u64, f64, f64)], loss: bool| -> Vec<(f64, f64)> {
        points
            .iter()
            .map(|&(s, l, a)| (s as f64, if loss { l } else { 100.0 * a }))
            .collect()
    };
    let half = WIDTH as i64 / 2;
    for (k, (title, loss)) in [("loss", true), ("accuracy %", false)]
        .into_iter()
        .enumerate()
    {
        let series = [
            Series {
                color: TRAIN_COLOR,
                points: smooth(&column(&curves.train, loss), window),
                markers: false,
            },
            Series {
                color: TEST_COLOR,
                points: column(&curves.test, loss),
                markers: true,
            },
        ];
        panel(&mut canvas, k as i64 * half, half, title, &series);
    }
    encode_rgb(WIDTH as u32, HEIGHT as u32, &canvas.rgb)
}

/// Writes the plot of `curves` to `path`.
pub fn write_training_plot(path: &Path, curves: &TrainingCurves) -> Result<()> {
    let png = render_training_plot(curves)?;
    std::fs::write(path, png)
        .map_err(|e| NnError::file(path, "", format!("cannot write the plot: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::png::decode_gray;

    #[test]
    fn ticks_are_round_and_inside() {
        assert_eq!(
            ticks(0.0, 1.0),
            [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        let t = ticks(0.13, 2.41);
        assert!(
            t.iter().all(|v| (0.13..=2.41).contains(v)) && t.len() >= 4,
            "{t:?}"
        );
        assert_eq!(label(0.5), "0.5");
        assert_eq!(label(1200.0), "1200");
        assert_eq!(
            smooth(&[(0.0, 2.0), (1.0, 4.0), (2.0, 6.0)], 2),
            [(0.0, 2.0), (1.0, 3.0), (2.0, 5.0)]
        );
    }

    #[test]
    fn plot_draws_both_curves() {
        let curves = TrainingCurves {
            train: (1..=200)
                .map(|s| (s, 2.0 / s as f64, 1.0 - 1.0 / s as f64))
                .collect(),
            test: vec![(100, 0.05, 0.97), (200, 0.03, 0.98)],
        };
        let png = render_training_plot(&curves).unwrap();
        let img = decode_gray(&png, Path::new("plot.png")).unwrap();
        assert_eq!((img.width, img.height), (WIDTH, HEIGHT));
        // Both series colors appear (decoded to their luma), on a white background.
        let luma = |c: [u8; 3]| {
            (0.299 * f64::from(c[0]) + 0.587 * f64::from(c[1]) + 0.114 * f64::from(c[2])).round()
                as u8
        };
        for color in [TRAIN_COLOR, TEST_COLOR] {
            let n = img.pixels.iter().filter(|&&p| p == luma(color)).count();
            assert!(n > 100, "{color:?}: {n} pixels");
        }
        assert!(img.pixels.iter().filter(|&&p| p == 255).count() > WIDTH * HEIGHT / 2);
    }
}
