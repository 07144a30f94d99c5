//! Charts drawn by the server as SVG (no chart library, no CDN): presentation attributes only, so
//! the page's CSP needs no inline styles.

use std::fmt::Write;

/// A bar chart of monthly amounts in fen: one bar per point, negative bars below the axis, the
/// labels under every few bars. `title` is the accessible name.
pub(crate) fn month_bars(points: &[(String, i64)], title: &str) -> String {
    const WIDTH: i64 = 640;
    const HEIGHT: i64 = 160;
    const TOP: i64 = 10;
    const BOTTOM: i64 = 24;
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
    let step = WIDTH / points.len() as i64;
    let bar = (step * 7 / 10).max(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(title)
    );
    let _ = write!(
        svg,
        "<line x1=\"0\" y1=\"{zero}\" x2=\"{WIDTH}\" y2=\"{zero}\" stroke=\"#9aa5b1\" stroke-width=\"1\"/>"
    );
    let label_every = (points.len() / 6).max(1);
    for (i, (label, value)) in points.iter().enumerate() {
        let x = i as i64 * step + (step - bar) / 2;
        let y = y_of(*value);
        let (top, height) = if *value >= 0 {
            (y, zero - y)
        } else {
            (zero, y - zero)
        };
        let fill = if *value >= 0 { "#2f6fbf" } else { "#c0392b" };
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"{top}\" width=\"{bar}\" height=\"{}\" fill=\"{fill}\"><title>{} {value}</title></rect>",
            height.max(1),
            escape(label)
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
        let svg = month_bars(&points, "贡献 <趋势>");
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(
            svg.contains("fill=\"#c0392b\""),
            "the negative month is red"
        );
        assert!(svg.contains("aria-label=\"贡献 &lt;趋势&gt;\""));
        assert!(!svg.contains("style="), "no inline style under the CSP");
        assert_eq!(month_bars(&[], "x"), "");
    }
}
