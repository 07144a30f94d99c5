//! Charts drawn by the server as SVG (no chart library, no CDN): presentation attributes only, so
//! the page's CSP needs no inline styles.

use std::fmt::Write;

/// A bar chart of monthly amounts in fen: one bar per point, negative bars below the axis, a
/// y-axis on the left with its ticks (as `tick` writes them) and `unit` above it, the labels under
/// every few bars, each bar's amount (as `show` writes it) in its tooltip. `title` is the
/// accessible name.
pub(crate) fn month_bars(
    points: &[(String, i64)],
    title: &str,
    show: &dyn Fn(i64) -> String,
    tick: &dyn Fn(i64) -> String,
    unit: &str,
) -> String {
    const WIDTH: i64 = 640;
    const HEIGHT: i64 = 170;
    const TOP: i64 = 20;
    const BOTTOM: i64 = 24;
    // Room for the axis' numbers.
    const LEFT: i64 = 76;
    if points.is_empty() {
        return String::new();
    }
    let max = points.iter().map(|(_, v)| *v).max().unwrap_or(0).max(0);
    let min = points.iter().map(|(_, v)| *v).min().unwrap_or(0).min(0);
    let span = (max - min).max(1);
    let plot = HEIGHT - TOP - BOTTOM;
    // Integer pixel arithmetic: i128 so that large fen amounts cannot overflow.
    let y_of = |v: i64| TOP + ((i128::from(max - v) * i128::from(plot)) / i128::from(span)) as i64;
    let zero = y_of(0);
    let step = (WIDTH - LEFT) / points.len() as i64;
    let bar = (step * 7 / 10).max(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(title)
    );
    // The y-axis: the unit on top, a tick at the top, the middle, zero and the bottom.
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"11\" font-size=\"11\" text-anchor=\"end\" fill=\"#52606d\">{}</text>",
        LEFT - 6,
        escape(unit)
    );
    let mut ticks = vec![max, 0];
    if max > 0 {
        ticks.push(max / 2);
    }
    if min < 0 {
        ticks.push(min);
    }
    ticks.sort_unstable();
    ticks.dedup();
    for value in ticks {
        let y = y_of(value);
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{y}\" x2=\"{WIDTH}\" y2=\"{y}\" stroke=\"#e4e7eb\" stroke-width=\"1\"/><text class=\"tick\" x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\" fill=\"#52606d\">{}</text>",
            LEFT - 6,
            y + 4,
            escape(&tick(value))
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{}\" stroke=\"#9aa5b1\" stroke-width=\"1\"/><line x1=\"{LEFT}\" y1=\"{zero}\" x2=\"{WIDTH}\" y2=\"{zero}\" stroke=\"#9aa5b1\" stroke-width=\"1\"/>",
        TOP + plot
    );
    let label_every = (points.len() / 6).max(1);
    for (i, (label, value)) in points.iter().enumerate() {
        let x = LEFT + i as i64 * step + (step - bar) / 2;
        let y = y_of(*value);
        let (top, height) = if *value >= 0 {
            (y, zero - y)
        } else {
            (zero, y - zero)
        };
        let fill = if *value >= 0 { "#2f6fbf" } else { "#c0392b" };
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"{top}\" width=\"{bar}\" height=\"{}\" fill=\"{fill}\"><title>{} {}</title></rect>",
            height.max(1),
            escape(label),
            escape(&show(*value))
        );
        if i % label_every == 0 {
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#52606d\">{}</text>",
                x + bar / 2,
                HEIGHT - 6,
                escape(label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The Lorenz curve of a population (points from (0, 0) to (1, 1)) against the line of
/// equality; `title` is the accessible name.
pub(crate) fn lorenz(points: &[(f64, f64)], title: &str) -> String {
    const SIZE: f64 = 240.0;
    const PAD: f64 = 24.0;
    let at = |(x, y): (f64, f64)| (PAD + x * SIZE, PAD + (1.0 - y) * SIZE);
    let mut svg = String::new();
    let full = SIZE + 2.0 * PAD;
    let _ = write!(
        svg,
        "<svg class=\"chart lorenz\" viewBox=\"0 0 {full} {full}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(title)
    );
    let _ = write!(
        svg,
        "<rect x=\"{PAD}\" y=\"{PAD}\" width=\"{SIZE}\" height=\"{SIZE}\" fill=\"none\" stroke=\"#d9e2ec\"/>\
         <line x1=\"{PAD}\" y1=\"{}\" x2=\"{}\" y2=\"{PAD}\" stroke=\"#9aa5b1\" stroke-dasharray=\"4 3\"/>",
        PAD + SIZE,
        PAD + SIZE
    );
    // Thousands of customers would make a path of thousands of points; a few hundred draw the
    // same curve at this size.
    let step = (points.len() / 400).max(1);
    let mut path = String::new();
    for (i, point) in points.iter().enumerate() {
        if i % step != 0 && i + 1 != points.len() {
            continue;
        }
        let (x, y) = at(*point);
        let _ = write!(
            path,
            "{}{x:.1},{y:.1} ",
            if path.is_empty() { "M" } else { "L" }
        );
    }
    if !path.is_empty() {
        let _ = write!(
            svg,
            "<path d=\"{}\" fill=\"none\" stroke=\"#9b1c1c\" stroke-width=\"2\"/>",
            path.trim_end()
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{PAD}\" y=\"{}\" font-size=\"11\" fill=\"#52606d\">0</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#52606d\" text-anchor=\"end\">100%</text>",
        full - 6.0,
        PAD + SIZE,
        full - 6.0
    );
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars of counts with their labels (the tier distribution).
pub(crate) fn count_bars(rows: &[(String, i64)], title: &str) -> String {
    const WIDTH: i64 = 420;
    const LABEL: i64 = 110;
    const ROW: i64 = 26;
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let height = ROW * rows.len() as i64 + 8;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart bars\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(title)
    );
    for (i, (label, n)) in rows.iter().enumerate() {
        let y = 4 + i as i64 * ROW;
        let w = (WIDTH - LABEL - 60) * n / max;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\" fill=\"#1f2933\">{}</text>\
             <rect x=\"{LABEL}\" y=\"{y}\" width=\"{}\" height=\"{}\" fill=\"#2f6fbf\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#1f2933\">{n}</text>",
            LABEL - 8,
            y + 16,
            escape(label),
            w.max(1),
            ROW - 8,
            LABEL + w + 6,
            y + 16
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_per_month_and_negative_bars_below_the_axis() {
        let points = vec![
            ("2026-01".to_owned(), 500),
            ("2026-02".to_owned(), -250),
            ("2026-03".to_owned(), 0),
        ];
        let svg = month_bars(
            &points,
            "贡献 <趋势>",
            &|fen| format!("{fen} 分"),
            &|fen| format!("t{fen}"),
            "分",
        );
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(
            svg.contains("fill=\"#c0392b\""),
            "the negative month is red"
        );
        assert!(svg.contains("aria-label=\"贡献 &lt;趋势&gt;\""));
        assert!(!svg.contains("style="), "no inline style under the CSP");
        assert!(
            svg.contains("<title>2026-02 -250 分</title>"),
            "amounts as shown"
        );
        // The y-axis: the unit, and ticks at the top, the middle, zero and the bottom.
        assert!(svg.contains(">分</text>"));
        for tick in ["t500", "t250", "t0", "t-250"] {
            assert!(svg.contains(&format!(">{tick}</text>")), "tick {tick}");
        }
        assert_eq!(svg.matches("class=\"tick\"").count(), 4);
        let none = |fen: i64| fen.to_string();
        assert_eq!(month_bars(&[], "x", &none, &none, ""), "");
    }

    #[test]
    fn the_lorenz_curve_runs_from_corner_to_corner() {
        let svg = lorenz(&[(0.0, 0.0), (0.5, 0.1), (1.0, 1.0)], "Lorenz");
        assert!(svg.contains("M24.0,264.0"), "starts at (0, 0): {svg}");
        assert!(svg.contains("L264.0,24.0"), "ends at (1, 1)");
        let bars = count_bars(&[("一".into(), 10), ("二".into(), 5)], "tiers");
        assert_eq!(bars.matches("<rect").count(), 2);
        assert!(!bars.contains("style="));
    }
}
