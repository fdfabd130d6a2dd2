//! `purl demo`: a living installation at once. Reference data and money come in through the same
//! CSV imports a coordinator uses (the files are in `crates/purl-cli/demo/`); the rest through the
//! same commands as the CLI. Figures are modelled on public reporting of 2025, not official data.

use anyhow::{bail, Context as _};
use purl_app::import::ImportKind;
use purl_app::{App, FixedClock, WriteOptions};
use purl_core::command::Command;
use purl_core::ids::{Name, ParticipantCode, Period, Reference, Username};
use purl_core::money::{Currency, Money};
use purl_core::package::PackageStatus;
use purl_core::participant::{Membership, Party};
use purl_core::user::{Actor, Role};
use purl_store::Store;

use crate::cli::Cli;
use crate::install;

const FX: &str = include_str!("../demo/fx.csv");
const GDP: &str = include_str!("../demo/gdp.csv");
const PLEDGES: &str = include_str!("../demo/pledges.csv");
const PAYMENTS: &str = include_str!("../demo/payments.csv");
const LIST_2025_11: &str = include_str!("../demo/requirements-2025-11.csv");
const LIST_2025_12: &str = include_str!("../demo/requirements-2025-12.csv");
const LIST_2025_12_V2: &str = include_str!("../demo/requirements-2025-12-v2.csv");

/// The demo is a snapshot of 3 December 2025, 12:00 UTC, the day of the foreign ministers' meeting.
const DEMO_NOW_US: i64 = 1_764_763_200_000_000;

fn valid<T, E: std::fmt::Display>(result: Result<T, E>) -> T {
    result.unwrap_or_else(|error| panic!("the demo data set is valid: {error}"))
}

fn code(text: &str) -> ParticipantCode {
    valid(ParticipantCode::parse(text))
}

fn period(text: &str) -> Period {
    valid(Period::parse(text))
}

fn reference(text: &str) -> Reference {
    valid(Reference::parse(text))
}

fn money(amount: &str, currency: &str) -> Money {
    valid(Money::parse(amount, valid(Currency::parse(currency))))
}

pub async fn load(cli: &Cli) -> anyhow::Result<()> {
    let clock = || Box::new(FixedClock(DEMO_NOW_US));
    let opened = if install::exists(cli).await? {
        install::open_with(cli, clock()).await?
    } else {
        install::init(cli, clock(), None).await?
    };
    match opened {
        install::Opened::Sqlite(app) => load_into(cli, &app).await,
        install::Opened::Postgres(app) => load_into(cli, &app).await,
    }
}

async fn load_into<S: Store>(cli: &Cli, app: &App<S>) -> anyhow::Result<()> {
    let state = app.load_state().await.map_err(crate::run::explain)?;
    let demo_user = Username::parse("nato.cell").expect("a valid user name");
    if state.users.contains_key(&demo_user) && state.pledges.contains_key(&reference("NLD-2025-08"))
    {
        say!(
            "ok: the demo is already loaded ({} ledger entries); nothing changed",
            state.head
        );
        return Ok(());
    }
    if !state.pledges.is_empty() || !state.users.is_empty() {
        bail!("the installation already holds other data; the demo loads only into a new one (try another --data-dir)");
    }
    let bar = indicatif::ProgressBar::new(5).with_message("loading the demo");
    execute(app, participants_and_users())
        .await
        .context("while adding auditors and users")?;
    bar.inc(1);
    for (kind, name, text) in [
        (ImportKind::Fx, "demo/fx.csv", FX),
        (ImportKind::Gdp, "demo/gdp.csv", GDP),
        (ImportKind::Pledges, "demo/pledges.csv", PLEDGES),
        (ImportKind::Payments, "demo/payments.csv", PAYMENTS),
        (
            ImportKind::Requirements {
                period: period("2025-11"),
            },
            "demo/requirements-2025-11.csv",
            LIST_2025_11,
        ),
        (
            ImportKind::Requirements {
                period: period("2025-12"),
            },
            "demo/requirements-2025-12.csv",
            LIST_2025_12,
        ),
    ] {
        app.import(&Actor::Operator, kind, name, text, None)
            .await
            .map_err(crate::run::explain)?;
    }
    bar.inc(1);
    execute(app, approvals("2025-11"))
        .await
        .context("while approving the November list")?;
    execute(app, approvals("2025-12"))
        .await
        .context("while approving the December list")?;
    let v2 = ImportKind::Requirements {
        period: period("2025-12"),
    };
    app.import(
        &Actor::Operator,
        v2,
        "demo/requirements-2025-12-v2.csv",
        LIST_2025_12_V2,
        None,
    )
    .await
    .map_err(crate::run::explain)?;
    bar.inc(1);
    execute(app, packages())
        .await
        .context("while forming the packages")?;
    bar.inc(1);
    execute(app, deliveries())
        .await
        .context("while recording deliveries")?;
    bar.finish_and_clear();
    app.sign_checkpoint(&install::signer(cli)?)
        .await
        .map_err(crate::run::explain)?;
    let head = purl_store::Store::head(app.store()).await?;
    say!("ok: demo loaded, {head} ledger entries");
    say!("try: purl report overview | purl pledge list | purl list show 2025-12 | purl list diff 2025-12 1 2 | purl package show 1 | purl verify");
    Ok(())
}

async fn execute<S: Store>(app: &App<S>, commands: Vec<Command>) -> anyhow::Result<()> {
    let options = WriteOptions {
        request: purl_app::idempotency::describe(&"demo"),
        ..WriteOptions::default()
    };
    app.execute_all(&Actor::Operator, commands, options)
        .await
        .map_err(|e| crate::run::explain(e.into()))?;
    Ok(())
}

fn participants_and_users() -> Vec<Command> {
    let auditor = |id: &str, name: &str| Command::AddParticipant {
        code: code(id),
        alpha2: None,
        name: valid(Name::parse(name)),
        membership: Membership::Organisation,
        party: Party::Auditor,
    };
    let mut commands = vec![
        auditor("NLD-AR", "Netherlands Court of Audit (Algemene Rekenkamer)"),
        auditor("IBAN", "International Board of Auditors for NATO"),
    ];
    let users: [(&str, &str, &str, &[Role]); 10] = [
        (
            "olena.koval",
            "UKR",
            "Olena Koval, MoD planning",
            &[Role::Editor, Role::Approver],
        ),
        (
            "ukr.admin",
            "UKR",
            "MoD Ukraine administrator",
            &[Role::Admin],
        ),
        (
            "nato.cell",
            "NATO",
            "PURL coordination cell",
            &[Role::Editor, Role::Approver, Role::Admin],
        ),
        (
            "us.dsca",
            "USA",
            "US security cooperation office",
            &[Role::Editor, Role::Approver],
        ),
        ("nld.mod", "NLD", "Netherlands MoD", &[Role::Editor]),
        ("deu.bmvg", "DEU", "German MoD", &[Role::Editor]),
        ("can.dnd", "CAN", "Canada DND", &[Role::Editor]),
        ("nor.fd", "NOR", "Norway MoD", &[Role::Editor, Role::Viewer]),
        (
            "ar.auditor",
            "NLD-AR",
            "Court of Audit inspector",
            &[Role::Viewer],
        ),
        (
            "iban.auditor",
            "IBAN",
            "NATO board auditor",
            &[Role::Viewer],
        ),
    ];
    commands.extend(
        users
            .iter()
            .map(|(username, participant, name, roles)| Command::AddUser {
                username: valid(Username::parse(username)),
                participant: code(participant),
                name: valid(Name::parse(name)),
                roles: roles.iter().copied().collect(),
            }),
    );
    commands
}

fn approvals(list: &str) -> Vec<Command> {
    let mut commands = vec![Command::SubmitList {
        period: period(list),
    }];
    for party in [Party::Requester, Party::Supplier, Party::Coordinator] {
        commands.push(Command::ApproveList {
            period: period(list),
            version: 1,
            party,
        });
    }
    commands
}

fn packages() -> Vec<Command> {
    let lines: [(u32, &str, &str, &str, u64); 9] = [
        (
            1,
            "PURL 1: Patriot interceptors (Netherlands)",
            "2025-11",
            "L0001",
            100,
        ),
        (2, "PURL 2: Nordic air defence", "2025-11", "L0002", 60),
        (2, "", "2025-11", "L0003", 80),
        (3, "PURL 3: Artillery (Germany)", "2025-11", "L0004", 50),
        (3, "", "2025-11", "L0005", 60_000),
        (
            4,
            "PURL 4: Anti-armour and counter-drone (Canada)",
            "2025-11",
            "L0006",
            300,
        ),
        (4, "", "2025-11", "L0007", 40),
        (
            5,
            "PURL 5: Medical and logistics (forming)",
            "2025-12",
            "L0003",
            50_000,
        ),
        (5, "", "2025-12", "L0004", 30),
    ];
    let mut commands = Vec::new();
    for (number, name, list, line, quantity) in lines {
        if !name.is_empty() {
            commands.push(Command::CreatePackage {
                name: valid(Name::parse(name)),
            });
        }
        commands.push(Command::AddPackageLine {
            number,
            period: period(list),
            line_id: line.into(),
            quantity,
        });
    }
    let funding = [
        (1, "NLD-2025-08", "370000000", "EUR"),
        (2, "DNK-NOR-SWE-2025-08", "3500000000", "NOK"),
        (3, "DEU-2025-08", "241000000", "USD"),
        (4, "CAN-2025-08", "130000000", "CAD"),
        (5, "NZL-2025-09", "16000000", "NZD"),
    ];
    for (number, pledge, amount, currency) in funding {
        commands.push(Command::AllocateContribution {
            number,
            pledge: reference(pledge),
            amount: money(amount, currency),
        });
    }
    let progress: [(u32, &[PackageStatus]); 4] = [
        (
            1,
            &[
                PackageStatus::Funded,
                PackageStatus::Released,
                PackageStatus::Contracted,
            ],
        ),
        (
            2,
            &[
                PackageStatus::Funded,
                PackageStatus::Released,
                PackageStatus::Contracted,
            ],
        ),
        (
            3,
            &[
                PackageStatus::Funded,
                PackageStatus::Released,
                PackageStatus::Contracted,
            ],
        ),
        (4, &[PackageStatus::Funded]),
    ];
    for (number, steps) in progress {
        commands.extend(steps.iter().map(|status| Command::SetPackageStatus {
            number,
            status: *status,
        }));
    }
    commands
}

fn deliveries() -> Vec<Command> {
    let day = |text: &str| valid(purl_core::ids::parse_date(text));
    vec![
        Command::ShipDelivery {
            package: 1,
            line_id: "L0001".into(),
            quantity: 60,
            shipped_on: day("2025-10-10"),
        },
        Command::ShipDelivery {
            package: 1,
            line_id: "L0001".into(),
            quantity: 40,
            shipped_on: day("2025-11-05"),
        },
        Command::ReceiveDelivery {
            id: "DLV-000001".into(),
            received_on: day("2025-10-18"),
            quantity: 60,
        },
        Command::ReceiveDelivery {
            id: "DLV-000002".into(),
            received_on: day("2025-11-14"),
            quantity: 40,
        },
        Command::SetPackageStatus {
            number: 1,
            status: PackageStatus::Delivered,
        },
        Command::ShipDelivery {
            package: 2,
            line_id: "L0002".into(),
            quantity: 30,
            shipped_on: day("2025-11-20"),
        },
        Command::ReceiveDelivery {
            id: "DLV-000003".into(),
            received_on: day("2025-11-28"),
            quantity: 30,
        },
    ]
}
