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
