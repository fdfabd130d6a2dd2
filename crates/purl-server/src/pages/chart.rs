//! Charts as inline SVG made on the server: no script, readable in print, each with a text
//! alternative; the numbers are always also in a table beside it.

use maud::{html, Markup};

/// One bar: its label, its size (any unit, ≥ 0) and the figure written beside it.
pub struct Bar {
    pub label: String,
    pub size: u128,
    pub figure: String,
}

const WIDTH: u32 = 720;
const LABEL_WIDTH: u32 = 170;
const FIGURE_WIDTH: u32 = 190;
const BAR_HEIGHT: u32 = 26;
const GAP: u32 = 12;

/// A horizontal bar chart titled `title`, the largest bar the full width.
pub fn bars(title: &str, bars: &[Bar]) -> Markup {
    let largest = bars.iter().map(|bar| bar.size).max().unwrap_or(0);
    scaled(title, bars, largest)
}

/// A horizontal bar chart of shares: sizes in per mille, a full bar is 100 %.
pub fn shares(title: &str, bars: &[Bar]) -> Markup {
    scaled(title, bars, 1000)
}

fn scaled(title: &str, bars: &[Bar], largest: u128) -> Markup {
    let largest = largest.max(1);
    let room = u128::from(WIDTH - LABEL_WIDTH - FIGURE_WIDTH);
    let height = u32::try_from(bars.len()).unwrap_or(0) * (BAR_HEIGHT + GAP) + GAP;
    let description = bars
        .iter()
        .map(|bar| format!("{}: {}", bar.label, bar.figure))
        .collect::<Vec<_>>()
        .join("; ");
    html! {
        svg class="chart" viewBox={ "0 0 " (WIDTH) " " (height) } role="img"
            aria-label={ (title) ": " (description) } xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            @for (index, bar) in bars.iter().enumerate() {
                @let y = GAP + u32::try_from(index).unwrap_or(0) * (BAR_HEIGHT + GAP);
                @let length = u32::try_from(bar.size.min(largest) * room / largest).unwrap_or(0);
                text x="0" y=(y + BAR_HEIGHT * 2 / 3) class="chart-label" { (bar.label) }
                rect x=(LABEL_WIDTH) y=(y) width=(length.max(1)) height=(BAR_HEIGHT)
                    class={ "chart-bar chart-bar-" (index % 4) } {}
                text x=(LABEL_WIDTH + length + 8) y=(y + BAR_HEIGHT * 2 / 3) class="chart-figure" {
                    (bar.figure)
                }
            }
        }
    }
}

/// One line of a line chart: its name and a value (≥ 0, any unit) per label.
pub struct Series {
    pub name: String,
    pub values: Vec<u128>,
}

const PLOT_HEIGHT: u32 = 260;
const PLOT_LEFT: u32 = 150;
const PLOT_TOP: u32 = 34;
const PLOT_RIGHT: u32 = 40;

/// A line chart titled `title`: one point per label (e.g. months), `figure` writes a value on the
/// axis and in the text alternative.
pub fn lines(
    title: &str,
    labels: &[String],
    series: &[Series],
    figure: &dyn Fn(u128) -> String,
) -> Markup {
    let largest = series
        .iter()
        .flat_map(|line| line.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let width = WIDTH - PLOT_LEFT - PLOT_RIGHT;
    let count = u32::try_from(labels.len()).unwrap_or(1).max(1);
    let x = |index: usize| {
        let index = u32::try_from(index).unwrap_or(0);
        PLOT_LEFT
            + if count > 1 {
                index * width / (count - 1)
            } else {
                width / 2
            }
    };
    let y = |value: u128| {
        let height = u128::from(PLOT_HEIGHT);
        PLOT_TOP + PLOT_HEIGHT - u32::try_from(value.min(largest) * height / largest).unwrap_or(0)
    };
    let step = (labels.len() / 8).max(1);
    let description = series
        .iter()
        .map(|line| {
            let last = line.values.last().copied().unwrap_or(0);
            format!(
                "{}: {} at {}",
                line.name,
                figure(last),
                labels.last().map_or("", String::as_str)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let bottom = PLOT_TOP + PLOT_HEIGHT;
    html! {
        svg class="chart" viewBox={ "0 0 " (WIDTH) " " (bottom + 40) } role="img"
            aria-label={ (title) ": " (description) } xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            @for (index, line) in series.iter().enumerate() {
                @let left = PLOT_LEFT + u32::try_from(index).unwrap_or(0) * 170;
                rect x=(left) y="6" width="14" height="14" class={ "chart-bar chart-bar-" (index % 4) } {}
                text x=(left + 20) y="18" class="chart-label" { (line.name) }
            }
            @for value in [0, largest / 2, largest] {
                line x1=(PLOT_LEFT) x2=(PLOT_LEFT + width) y1=(y(value)) y2=(y(value)) class="chart-grid" {}
                text x=(PLOT_LEFT - 6) y=(y(value) + 5) text-anchor="end" class="chart-axis" { (figure(value)) }
            }
            @for (index, label) in labels.iter().enumerate() {
                @if index % step == 0 || index + 1 == labels.len() {
                    text x=(x(index)) y=(bottom + 22) text-anchor="middle" class="chart-axis" { (label) }
                }
            }
            @for (index, line) in series.iter().enumerate() {
                @let points = line.values.iter().enumerate().map(|(i, value)| format!("{},{}", x(i), y(*value))).collect::<Vec<_>>().join(" ");
                polyline points=(points) class={ "chart-line chart-line-" (index % 4) } {}
                @for (i, value) in line.values.iter().enumerate() {
                    circle cx=(x(i)) cy=(y(*value)) r="4" class={ "chart-dot chart-bar-" (index % 4) } {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_sized_against_the_largest_and_labelled_for_screen_readers() {
        let svg = bars(
            "Funding",
            &[
                Bar {
                    label: "pledged".into(),
                    size: 200,
                    figure: "USD 200".into(),
                },
                Bar {
                    label: "paid".into(),
                    size: 50,
                    figure: "USD 50".into(),
                },
            ],
        )
        .into_string();
        let room = WIDTH - LABEL_WIDTH - FIGURE_WIDTH;
        assert!(svg.contains(&format!("width=\"{room}\"")), "{svg}");
        assert!(svg.contains(&format!("width=\"{}\"", room / 4)), "{svg}");
        assert!(svg.contains("aria-label=\"Funding: pledged: USD 200; paid: USD 50\""));
        assert!(svg.contains("<title>Funding</title>"));
    }

    #[test]
    fn lines_put_the_largest_value_at_the_top_and_zero_at_the_bottom() {
        let labels = vec!["2026-10".to_owned(), "2026-11".to_owned()];
        let svg = lines(
            "Cumulative",
            &labels,
            &[Series {
                name: "pledged".into(),
                values: vec![0, 10],
            }],
            &|value| value.to_string(),
        )
        .into_string();
        let (left, right) = (PLOT_LEFT, WIDTH - PLOT_RIGHT);
        let expected = format!(
            "points=\"{left},{} {right},{PLOT_TOP}\"",
            PLOT_TOP + PLOT_HEIGHT
        );
        assert!(svg.contains(&expected), "{svg}");
        assert!(
            svg.contains("aria-label=\"Cumulative: pledged: 10 at 2026-11\""),
            "{svg}"
        );
    }

    #[test]
    fn shares_are_sized_against_a_whole_not_the_largest() {
        let svg = shares(
            "Funded",
            &[Bar {
                label: "ranks 1–10".into(),
                size: 500,
                figure: "50.0 %".into(),
            }],
        )
        .into_string();
        let room = WIDTH - LABEL_WIDTH - FIGURE_WIDTH;
        assert!(svg.contains(&format!("width=\"{}\"", room / 2)), "{svg}");
    }
}
