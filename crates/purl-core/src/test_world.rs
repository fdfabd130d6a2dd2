//! A world to state rules in, without a database: reference participants, a small catalogue and
//! rates, and helpers to build commands.

use chrono::NaiveDate;

use crate::command::{decide, Command, Context, NewLine, NewPledge};
use crate::error::DomainError;
use crate::event::{Event, EventPayload};
use crate::fx::FxRate;
use crate::ids::{Category, ItemCode, Name, ParticipantCode, Period, Reference, Text};
use crate::money::{Currency, Money, Ratio};
use crate::participant::reference_participants;
use crate::pledge::{Earmark, PledgeStatus};
use crate::state::State;
use crate::user::Actor;

pub(crate) fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

pub(crate) fn code(text: &str) -> ParticipantCode {
    ParticipantCode::parse(text).unwrap()
}

pub(crate) fn usd(text: &str) -> Money {
    Money::parse(text, Currency::USD).unwrap()
}

pub(crate) fn money(text: &str, currency: &str) -> Money {
    Money::parse(text, Currency::parse(currency).unwrap()).unwrap()
}

pub(crate) fn period() -> Period {
    Period::parse("2025-12").unwrap()
}

pub(crate) struct World {
    pub(crate) state: State,
    pub(crate) actor: Actor,
}

impl World {
    /// Reference participants, two catalogue items and USD/EUR/NOK rates for December 2025.
    pub(crate) fn new() -> Self {
        let mut world = World {
            state: State::default(),
            actor: Actor::Operator,
        };
        for participant in reference_participants() {
            world.apply(vec![EventPayload::ParticipantAdded { participant }]);
        }
        world.given(Command::AddItem {
            code: ItemCode::parse("PAC3").unwrap(),
            name: Name::parse("Patriot PAC-3 MSE interceptor").unwrap(),
            category: Category::parse("air-defence").unwrap(),
            lethal: true,
            unit_price: usd("4000000"),
            lead_time_days: 180,
        });
        world.given(Command::AddItem {
            code: ItemCode::parse("IFAK").unwrap(),
            name: Name::parse("Individual first aid kit").unwrap(),
            category: Category::parse("medical").unwrap(),
            lethal: false,
            unit_price: usd("100"),
            lead_time_days: 30,
        });
        let rate = |currency: &str, value: &str| FxRate {
            currency: Currency::parse(currency).unwrap(),
            date: day("2025-12-01"),
            usd_per_unit: Ratio::parse_decimal(value).unwrap(),
            source: "test".into(),
        };
        world.given(Command::RecordRates {
            rates: vec![rate("EUR", "1.1"), rate("NOK", "0.1")],
        });
        world
    }

    pub(crate) fn apply(&mut self, events: Vec<EventPayload>) {
        for payload in events {
            let json: serde_json::Value =
                serde_json::from_slice(&payload.canonical_json()).unwrap();
            assert_eq!(
                json["type"],
                payload.kind(),
                "kind() names the payload's type tag"
            );
            let event = Event::new(self.state.head + 1, 0, "operator".into(), payload);
            assert_eq!(
                Event::from_canonical_bytes(&event.canonical_bytes()).unwrap(),
                event
            );
            self.state.apply(&event).expect("decided events apply");
        }
    }

    pub(crate) fn when(&mut self, command: Command) -> Result<Vec<EventPayload>, DomainError> {
        let context = Context {
            actor: &self.actor,
            today: day("2025-12-03"),
        };
        let events = decide(&self.state, &context, &command, None)?;
        self.apply(events.clone());
        Ok(events)
    }

    pub(crate) fn given(&mut self, command: Command) {
        self.when(command.clone())
            .unwrap_or_else(|e| panic!("{command:?} was refused: {e}"));
    }

    pub(crate) fn refused(&mut self, command: Command) -> String {
        let before = self.state.clone();
        let error = self.when(command).expect_err("the command must be refused");
        assert_eq!(self.state, before, "a refused command changes nothing");
        error.to_string()
    }

    pub(crate) fn with_list_of(&mut self, items: &[(&str, u64)]) {
        self.given(Command::CreateList { period: period() });
        for (item, quantity) in items {
            self.given(Command::AddLine {
                period: period(),
                rank: None,
                line: new_line(item, *quantity),
            });
        }
    }

    pub(crate) fn approve_all(&mut self, version: u32) {
        self.given(Command::SubmitList { period: period() });
        for party in crate::list::APPROVING_PARTIES {
            self.given(Command::ApproveList {
                period: period(),
                version,
                party,
            });
        }
    }
}

pub(crate) fn new_line(item: &str, quantity: u64) -> NewLine {
    NewLine {
        item: ItemCode::parse(item).unwrap(),
        quantity,
        needed_by: day("2026-03-01"),
        justification: Text::parse("winter air defence").unwrap(),
    }
}

pub(crate) fn pledge(reference: &str, contributors: &[&str], amount: Option<Money>) -> NewPledge {
    NewPledge {
        reference: Reference::parse(reference).unwrap(),
        contributors: contributors.iter().map(|c| code(c)).collect(),
        amount,
        currency: amount.map(Money::currency),
        announced_on: day("2025-12-02"),
        status: PledgeStatus::Committed,
        part_of: None,
        earmark: Earmark::default(),
        conditions: Text::default(),
        public: true,
        note: Text::default(),
    }
}

pub(crate) fn reference(text: &str) -> Reference {
    Reference::parse(text).unwrap()
}
