//! The timeline and the runway (design §7). The timeline is the overview's pledged, committed and
//! paid totals at the end of each month, from the month of the first pledge to the as-of day, so
//! every point is exactly the overview a reader gets for that day (public totals, nothing more).
//! The runway sets a monthly need against the committed money: month by month from the first
//! pledge, the need adds up; the month in which it passes the money committed by then (after the
//! as-of day: no new money assumed) is the month funding runs out.

use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;

use crate::error::DomainError;
use crate::money::{Currency, Money};
use crate::state::State;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timeline {
    pub as_of: NaiveDate,
    pub currency: Currency,
    pub points: Vec<TimelinePoint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelinePoint {
    /// `YYYY-MM`.
    pub month: String,
    /// The month's last day, or the as-of day in its month.
    pub on: NaiveDate,
    #[serde(serialize_with = "super::amount")]
    pub pledged: Money,
    #[serde(serialize_with = "super::amount")]
    pub committed: Money,
    #[serde(serialize_with = "super::amount")]
    pub paid: Money,
}

/// Months shown after the as-of month when nothing runs out sooner.
pub const RUNWAY_HORIZON_MONTHS: u32 = 24;
/// Months a timeline shows at most, ending at its as-of month: fifty years is more than the list
/// will ever span, and each month is a whole overview (a pledge dated in year 1, or an as-of date
/// in year 9000, must not make a timeline of a hundred thousand overviews). Money before the
/// first month shown is in that month's cumulative figures.
pub const TIMELINE_MONTHS_MAX: u32 = 600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Runway {
    #[serde(serialize_with = "super::amount")]
    pub monthly_need: Money,
    pub months: Vec<RunwayMonth>,
    /// The first month whose cumulative need exceeds the money committed by then.
    pub runs_out: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunwayMonth {
    pub month: String,
    #[serde(serialize_with = "super::amount")]
    pub cumulative_need: Money,
    #[serde(serialize_with = "super::amount")]
    pub committed: Money,
    /// After the as-of month: the committed money is held at its last value.
    pub projected: bool,
}

fn month_end(date: NaiveDate) -> NaiveDate {
    let first = date.with_day(1).expect("every month has a first day");
    first
        .checked_add_months(Months::new(1))
        .and_then(|next| next.pred_opt())
        .unwrap_or(date)
}

fn month_of(date: NaiveDate) -> String {
    date.format("%Y-%m").to_string()
}

/// The timeline up to `as_of`.
pub fn timeline(state: &State, as_of: NaiveDate) -> Result<Timeline, DomainError> {
    let first = state
        .pledges
        .values()
        .map(|pledge| pledge.announced_on)
        .filter(|day| *day <= as_of)
        .min();
    let earliest = as_of
        .with_day(1)
        .and_then(|start| start.checked_sub_months(Months::new(TIMELINE_MONTHS_MAX - 1)));
    let first = first.map(|first| earliest.map_or(first, |earliest| first.max(earliest)));
    let mut points = Vec::new();
    if let Some(first) = first {
        let mut on = month_end(first).min(as_of);
        loop {
            let overview = super::overview(state, on)?;
            points.push(TimelinePoint {
                month: month_of(on),
                on,
                pledged: overview.pledged,
                committed: overview.committed,
                paid: overview.paid,
            });
            if on >= as_of {
                break;
            }
            let next = on
                .succ_opt()
                .map(month_end)
                .ok_or_else(|| DomainError::invalid("the timeline ran past the calendar"))?;
            on = next.min(as_of);
        }
    }
    Ok(Timeline {
        as_of,
        currency: Currency::USD,
        points,
    })
}

/// The runway of `timeline` at `monthly_need` (USD).
pub fn runway(timeline: &Timeline, monthly_need: Money) -> Result<Runway, DomainError> {
    if monthly_need.currency() != Currency::USD || !monthly_need.is_positive() {
        return Err(DomainError::invalid(
            "monthly_need: must be a positive amount in USD",
        ));
    }
    let usd = |minor: i128| {
        let minor =
            i64::try_from(minor).map_err(|_| DomainError::invalid("the need overflowed"))?;
        Ok::<_, DomainError>(Money::from_minor(minor, Currency::USD)?)
    };
    let mut months = Vec::new();
    let mut runs_out = None;
    let Some(last) = timeline.points.last() else {
        return Ok(Runway {
            monthly_need,
            months,
            runs_out,
        });
    };
    let horizon = timeline.points.len() + RUNWAY_HORIZON_MONTHS as usize;
    for index in 0..horizon {
        let (month, committed, projected) = match timeline.points.get(index) {
            Some(point) => (point.month.clone(), point.committed, false),
            None => {
                let ahead = u32::try_from(index + 1 - timeline.points.len()).unwrap_or(u32::MAX);
                let month = last
                    .on
                    .with_day(1)
                    .and_then(|first| first.checked_add_months(Months::new(ahead)))
                    .ok_or_else(|| DomainError::invalid("the runway ran past the calendar"))?;
                (month_of(month), last.committed, true)
            }
        };
        let need = i128::from(monthly_need.minor()) * (index as i128 + 1);
        if runs_out.is_none() && need > i128::from(committed.minor()) {
            runs_out = Some(month.clone());
        }
        months.push(RunwayMonth {
            month,
            cumulative_need: usd(need)?,
            committed,
            projected,
        });
        if runs_out.is_some() && projected {
            break;
        }
    }
    Ok(Runway {
        monthly_need,
        months,
        runs_out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(text: &str) -> Money {
        Money::parse(text, Currency::USD).unwrap()
    }

    fn point(month: &str, committed: &str) -> TimelinePoint {
        let on = NaiveDate::parse_from_str(&format!("{month}-28"), "%Y-%m-%d").unwrap();
        TimelinePoint {
            month: month.into(),
            on,
            pledged: usd(committed),
            committed: usd(committed),
            paid: usd("0.00"),
        }
    }

    fn of(points: Vec<TimelinePoint>) -> Timeline {
        Timeline {
            as_of: points.last().unwrap().on,
            currency: Currency::USD,
            points,
        }
    }

    #[test]
    fn a_timeline_shows_at_most_its_last_600_months_with_earlier_money_in_the_first() {
        use crate::command::Command;
        use crate::test_world::{day, pledge, World};
        let mut world = World::new();
        let mut old = pledge("OLD", &["NLD"], Some(usd("5.00")));
        old.announced_on = day("0001-03-15");
        world.given(Command::RecordPledge { pledge: old });
        world.given(Command::RecordPledge {
            pledge: pledge("NEW", &["NLD"], Some(usd("2.00"))),
        });
        let as_of = day("2026-11-30");
        let shown = timeline(&world.state, as_of).unwrap();
        assert_eq!(shown.points.len(), TIMELINE_MONTHS_MAX as usize);
        let first = &shown.points[0];
        assert_eq!(first.month, "1976-12");
        assert_eq!(
            first.pledged,
            usd("5.00"),
            "the old pledge counts from the start"
        );
        assert_eq!(shown.points.last().unwrap().pledged, usd("7.00"));
        assert_eq!(shown.points.last().unwrap().on, as_of);
        let far = timeline(&world.state, day("9000-01-31")).unwrap();
        assert_eq!(far.points.len(), TIMELINE_MONTHS_MAX as usize);
        assert_eq!(far.points[0].month, "8950-02");
    }

    #[test]
    fn funding_runs_out_in_the_month_the_need_passes_the_money() {
        // 2.50 of money by the second month; a need of 1.00 a month passes it in the third.
        let timeline = of(vec![point("2026-10", "1.00"), point("2026-11", "2.50")]);
        let runway = runway(&timeline, usd("1.00")).unwrap();
        assert_eq!(runway.runs_out.as_deref(), Some("2026-12"));
        let last = runway.months.last().unwrap();
        assert_eq!((last.month.as_str(), last.projected), ("2026-12", true));
        assert_eq!(last.cumulative_need.amount_string(), "3.00");
        assert_eq!(runway.months.len(), 3, "{runway:?}");
    }

    #[test]
    fn a_month_already_short_is_where_it_runs_out() {
        let timeline = of(vec![point("2026-10", "0.50"), point("2026-11", "5.00")]);
        let runway = runway(&timeline, usd("1.00")).unwrap();
        assert_eq!(runway.runs_out.as_deref(), Some("2026-10"));
    }

    #[test]
    fn enough_money_lasts_past_the_horizon() {
        let timeline = of(vec![point("2026-11", "1000.00")]);
        let runway = runway(&timeline, usd("1.00")).unwrap();
        assert_eq!(runway.runs_out, None);
        assert_eq!(runway.months.len(), 1 + RUNWAY_HORIZON_MONTHS as usize);
    }

    #[test]
    fn the_need_must_be_positive_usd() {
        let timeline = of(vec![point("2026-11", "1.00")]);
        assert!(runway(&timeline, usd("0.00")).is_err());
        let eur = Money::parse("1.00", Currency::parse("EUR").unwrap()).unwrap();
        assert!(runway(&timeline, eur).is_err());
    }

    #[test]
    fn month_ends_handle_short_months_and_leap_years() {
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        assert_eq!(month_end(day("2028-02-10")), day("2028-02-29"));
        assert_eq!(month_end(day("2026-12-31")), day("2026-12-31"));
    }
}
