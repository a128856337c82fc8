//! The usage chart as shapes for the template to draw as SVG: tokens per day,
//! stacked by model. Computed here so the page needs no script; the template
//! escapes every name it prints.

use app::time::{day_of, day_start};
use app::usage::UsageRow;
use serde::Serialize;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 8.0;
/// Distinguishable colours, repeated past eight models.
const PALETTE: [&str; 8] = [
    "#2f6fdf", "#e0702b", "#2a9d5b", "#c43d7a", "#7a5bd6", "#8c7a2a", "#1d9fb3", "#6b6b6b",
];

#[derive(Serialize)]
pub struct Bar {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    color: &'static str,
    /// Shown on hover: day, model, tokens, cost.
    title: String,
}

#[derive(Serialize)]
pub struct Tick {
    at: f64,
    label: String,
}

#[derive(Serialize)]
pub struct Legend {
    name: String,
    color: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Chart {
    width: f64,
    height: f64,
    left: f64,
    base: f64,
    bars: Vec<Bar>,
    y_ticks: Vec<Tick>,
    x_labels: Vec<Tick>,
    legend: Vec<Legend>,
    empty: bool,
}

/// A round step for about four gridlines up to `max`.
fn step_for(max: i64) -> i64 {
    let rough = (max.max(1) as f64 / 4.0).max(1.0);
    let mag = 10f64.powf(rough.log10().floor());
    let nice = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|m| m * mag >= rough)
        .unwrap_or(10.0);
    (nice * mag) as i64
}

/// `rows` are (day `YYYY-MM-DD`, model name, usage); the window is `[from, to)` in ms.
pub fn tokens_per_day(rows: &[(String, String, UsageRow)], (from, to): (i64, i64)) -> Chart {
    let first_day = from / day_start(1);
    let days = ((to - from) / day_start(1)).max(1);
    let mut models: Vec<String> = Vec::new();
    for (_, m, _) in rows {
        if !models.contains(m) {
            models.push(m.clone());
        }
    }
    let color = |m: &str| {
        let i = models.iter().position(|x| x == m).unwrap_or(0);
        PALETTE[i % PALETTE.len()]
    };
    let mut totals = vec![0i64; days as usize];
    for (d, _, r) in rows {
        if let Some(i) = index_of(d, first_day, days) {
            totals[i] += r.tokens();
        }
    }
    let max = totals.iter().copied().max().unwrap_or(0);
    let step = step_for(max);
    let top = (max + step - 1) / step * step;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let base = HEIGHT - BOTTOM;
    let slot = (WIDTH - LEFT) / days as f64;
    let scale = |n: i64| {
        if top == 0 {
            0.0
        } else {
            n as f64 / top as f64 * plot_h
        }
    };
    let mut stacked = vec![0i64; days as usize];
    let mut bars = Vec::new();
    for (d, m, r) in rows {
        let Some(i) = index_of(d, first_day, days) else {
            continue;
        };
        let below = stacked[i];
        stacked[i] += r.tokens();
        let cost = r
            .cost
            .iter()
            .map(|(c, a)| {
                format!(
                    "{} {c}",
                    llm::price::format_micros((a * 1e6).round() as i64)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        bars.push(Bar {
            x: LEFT + slot * i as f64 + slot * 0.15,
            y: base - scale(below + r.tokens()),
            w: slot * 0.7,
            h: scale(r.tokens()).max(if r.tokens() > 0 { 1.0 } else { 0.0 }),
            color: color(m),
            title: format!(
                "{d} · {m} · {} tokens{}",
                r.tokens(),
                if cost.is_empty() {
                    String::new()
                } else {
                    format!(" · {cost}")
                }
            ),
        });
    }
    let y_ticks = (0..=top / step.max(1))
        .map(|k| Tick {
            at: base - scale(k * step),
            label: (k * step).to_string(),
        })
        .collect();
    // Every day's number fits up to a month; beyond that, every seventh.
    let every = if days <= 31 { 1 } else { 7 };
    let x_labels = (0..days)
        .filter(|i| i % every == 0)
        .map(|i| Tick {
            at: LEFT + slot * (i as f64 + 0.5),
            label: day_of(day_start(first_day + i))[8..].to_owned(),
        })
        .collect();
    Chart {
        width: WIDTH,
        height: HEIGHT,
        left: LEFT,
        base,
        empty: rows.is_empty(),
        bars,
        y_ticks,
        x_labels,
        legend: models
            .iter()
            .map(|m| Legend {
                name: m.clone(),
                color: color(m),
            })
            .collect(),
    }
}

fn index_of(day: &str, first_day: i64, days: i64) -> Option<usize> {
    let ms = app::time::parse_day("day", day).ok()?;
    let i = ms / day_start(1) - first_day;
    (0..days).contains(&i).then_some(i as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(tokens_in: i64) -> UsageRow {
        UsageRow {
            tokens_in,
            ..UsageRow::default()
        }
    }

    #[test]
    fn bars_stack_per_day_within_the_plot() {
        let from = app::time::parse_day("d", "2026-12-01").unwrap();
        let to = from + day_start(31);
        let rows = vec![
            ("2026-12-01".to_owned(), "Kimi".to_owned(), row(300)),
            ("2026-12-01".to_owned(), "Built-in".to_owned(), row(100)),
            ("2026-12-03".to_owned(), "Kimi".to_owned(), row(50)),
            ("2027-01-09".to_owned(), "Kimi".to_owned(), row(999)),
        ];
        let c = tokens_per_day(&rows, (from, to));
        assert_eq!(c.bars.len(), 3, "the day outside the window is left out");
        assert_eq!(c.legend.len(), 2);
        let (a, b) = (&c.bars[0], &c.bars[1]);
        assert!(
            (a.y - (b.y + b.h)).abs() < 1e-9,
            "the second bar sits on the first"
        );
        for bar in &c.bars {
            assert!(bar.y >= TOP - 1e-9 && bar.y + bar.h <= c.base + 1e-9);
        }
        assert_eq!(c.x_labels.len(), 31);
        assert_eq!(c.y_ticks.last().unwrap().label, "400");
        assert!(tokens_per_day(&[], (from, to)).empty);
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(step_for(400), 100);
        assert_eq!(step_for(0), 1);
        assert_eq!(step_for(1_234_567), 500_000);
    }
}
