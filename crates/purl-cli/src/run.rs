//! Runs one parsed command line. Every write goes through `App::execute` as the operator.

use std::process::ExitCode;

use anyhow::{bail, Context as _};
use purl_app::import::{resolve_participant, ImportKind, ImportRequest, Source};
use purl_app::{App, AppError, WriteOptions};
use purl_core::command::{Command as Core, NewLine, NewPledge};
use purl_core::fx::FxRate;
use purl_core::money::Ratio;
use purl_core::package::PackageStatus;
use purl_core::participant::Membership;
use purl_core::pledge::{Earmark, PledgeStatus};
use purl_core::user::Actor;
use purl_store::Store;

use crate::cli::{
    CatalogueCommand, Cli, Command, DeliveryCommand, ExportCommand, FxCommand, ImportCommand,
    ListCommand, PackageCommand, ParticipantCommand, PaymentCommand, PledgeCommand, PledgeFields,
    UserCommand,
};
use crate::{allocate, demo, install, ledger, output, parse, read, serve};

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Init { origin } => {
            install::init(&cli, Box::new(purl_app::SystemClock), origin.as_deref()).await?;
            say!("ok: new installation with the reference participants (32 Allies, partners, UKR, NATO)");
            say!("next: `purl demo` for demo data, or `purl import ...` for your own");
            return Ok(ExitCode::SUCCESS);
        }
        Command::Demo => {
            demo::load(&cli).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Template { kind, output } => {
            write_template(*kind, output)?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Serve(args) => {
            serve::serve(&cli, args).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Audit(audit) => return ledger::audit(audit, cli.format),
        Command::Allocate(args) if !args.live => {
            return allocate::run(args).map(|()| ExitCode::SUCCESS)
        }
        Command::Migrate => {
            say!("{}", install::migrate(&cli).await?);
            return Ok(ExitCode::SUCCESS);
        }
        Command::ImportDb { file } => {
            say!("{}", install::import_db(&cli, file).await?);
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    match install::open(&cli).await? {
        install::Opened::Sqlite(app) => dispatch(&cli, &app).await,
        install::Opened::Postgres(app) => dispatch(&cli, &app).await,
    }
}

/// Runs a command that needs an installation, on whichever backend it is.
async fn dispatch<S: Store>(cli: &Cli, app: &App<S>) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Init { .. }
        | Command::Serve(_)
        | Command::Template { .. }
        | Command::Demo
        | Command::Audit(_)
        | Command::Migrate
        | Command::ImportDb { .. } => unreachable!("handled above"),
        Command::Backup { output } => say!("{}", install::backup(cli, output).await?),
        Command::ExportDb { output } => {
            let file = std::fs::File::create_new(output)
                .with_context(|| format!("while creating {}", output.display()))?;
            let mut writer = std::io::BufWriter::new(file);
            let events = purl_app::transfer::export(app.store(), &mut writer, &|_, _| {})
                .await
                .map_err(explain)?;
            std::io::Write::flush(&mut writer)
                .with_context(|| format!("while writing {}", output.display()))?;
            say!(
                "ok: {events} events and every checkpoint written to {}",
                output.display()
            );
        }
        Command::Allocate(args) => allocate::live(app, args, cli.format).await?,
        Command::Key(crate::cli::KeyCommand::ShowPublic) => {
            ledger::key_show_public(app, cli).await?
        }
        Command::Checkpoint(command) => ledger::checkpoint(app, cli, command).await?,
        Command::Proof(command) => ledger::proof(app, command).await?,
        Command::Evidence(command) => ledger::evidence(app, command).await?,
        Command::Verify => return read::verify(app, cli.format).await,
        Command::Participant(ParticipantCommand::List) => {
            read::participants(app, cli.format).await?
        }
        Command::Participant(ParticipantCommand::Show { code }) => {
            read::participant(app, cli.format, code).await?
        }
        Command::User(UserCommand::List) => read::users(app, cli.format).await?,
        Command::User(UserCommand::Add { username, .. }) => {
            let state = app.load_state().await?;
            let command = to_command(&cli.command, &state)?;
            write(app, cli, command).await?;
            ledger::after_write(app, cli).await?;
            one_time_password(app, username).await?;
        }
        Command::Package(PackageCommand::Form {
            allocation,
            target_usd,
        }) => {
            crate::allocate::form_packages(app, cli, *allocation, target_usd).await?;
            ledger::after_write(app, cli).await?;
        }
        Command::Export(ExportCommand::Public { output, as_of }) => {
            crate::open_data::export(app, output, as_of.as_deref()).await?
        }
        Command::Export(export) => crate::export::run(app, export).await?,
        Command::User(UserCommand::ResetPassword { username }) => {
            one_time_password(app, username).await?;
        }
        Command::Catalogue(CatalogueCommand::List) => read::catalogue(app, cli.format).await?,
        Command::List(ListCommand::All) => read::lists(app, cli.format).await?,
        Command::List(ListCommand::Show { period, version }) => {
            read::list(app, cli.format, period, *version).await?
        }
        Command::List(ListCommand::Diff { period, from, to }) => {
            read::diff(app, cli.format, period, *from, *to).await?
        }
        Command::Pledge(PledgeCommand::List) => read::pledges(app, cli.format).await?,
        Command::Pledge(PledgeCommand::Show { reference }) => {
            read::pledge(app, cli.format, reference).await?
        }
        Command::Payment(PaymentCommand::List { pledge }) => {
            read::payments(app, cli.format, pledge.as_deref()).await?
        }
        Command::Fx(FxCommand::List { currency }) => {
            read::rates(app, cli.format, currency.as_deref()).await?
        }
        Command::Fx(FxCommand::Convert {
            amount,
            currency,
            date,
        }) => read::convert(app, cli.format, amount, currency, date).await?,
        Command::Package(PackageCommand::List) => read::packages(app, cli.format).await?,
        Command::Package(PackageCommand::Show { number }) => {
            read::package(app, cli.format, *number).await?
        }
        Command::Delivery(DeliveryCommand::List { package }) => {
            read::deliveries(app, cli.format, *package).await?
        }
        Command::Report(crate::cli::ReportCommand::Overview { as_of, output }) => {
            read::overview(app, cli.format, as_of.as_deref(), output.as_deref()).await?
        }
        Command::Report(crate::cli::ReportCommand::Contributions { as_of, output }) => {
            read::contributions(app, cli.format, as_of.as_deref(), output.as_deref()).await?
        }
        Command::Import(import) => {
            run_import(app, cli, import).await?;
            ledger::after_write(app, cli).await?;
        }
        _ => {
            let state = app.load_state().await?;
            let command = to_command(&cli.command, &state)?;
            write(app, cli, command).await?;
            ledger::after_write(app, cli).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Executes one command as the operator, with the global idempotency key and expected version.
pub async fn write<S: Store>(app: &App<S>, cli: &Cli, command: Core) -> anyhow::Result<()> {
    let options = WriteOptions {
        idempotency_key: cli.idempotency_key.clone(),
        request: purl_app::idempotency::describe(&command),
        expected_version: cli.expected_version,
    };
    let written = app
        .execute(&Actor::Operator, command, options)
        .await
        .map_err(explain)?;
    output::written(cli.format, &written)
}

/// `purl template KIND --output FILE.xlsx`.
fn write_template(kind: crate::cli::TemplateKind, output: &std::path::Path) -> anyhow::Result<()> {
    use crate::cli::TemplateKind as T;
    let kind = match kind {
        T::Pledges => ImportKind::Pledges,
        T::Payments => ImportKind::Payments,
        T::Fx => ImportKind::Fx,
        T::Gdp => ImportKind::Gdp,
        // The period is given when importing; the template is the same for every list.
        T::Requirements => ImportKind::Requirements {
            period: parse::period("2000-01")?,
        },
    };
    let bytes = purl_app::import::template::workbook(kind)
        .map_err(|error| anyhow::anyhow!("the template could not be made: {error}"))?;
    crate::export::write_new_file(output, &bytes)?;
    say!(
        "ok: template written to {}; fill in the Data sheet from row 2",
        output.display()
    );
    Ok(())
}

/// Issues and prints a one-time password (shown once, stored hashed).
async fn one_time_password<S: Store>(app: &App<S>, username: &str) -> anyhow::Result<()> {
    let password = app
        .issue_one_time_password(username)
        .await
        .map_err(explain)?;
    say!("one-time password for {username}: {password}");
    say!("(shown once; it must be changed at first sign-in)");
    Ok(())
}

/// Turns an application error into a message for the operator (the source chain is kept).
pub fn explain(error: AppError) -> anyhow::Error {
    match error {
        AppError::Store(source) => anyhow::Error::new(source).context("storage failed"),
        other => anyhow::anyhow!("{other}"),
    }
}

async fn run_import<S: Store>(
    app: &App<S>,
    cli: &Cli,
    import: &ImportCommand,
) -> anyhow::Result<()> {
    let (kind, source) = match import {
        ImportCommand::Pledges(source) => (ImportKind::Pledges, source),
        ImportCommand::Payments(source) => (ImportKind::Payments, source),
        ImportCommand::Fx(source) => (ImportKind::Fx, source),
        ImportCommand::Gdp(source) => (ImportKind::Gdp, source),
        ImportCommand::Requirements { source, period } => (
            ImportKind::Requirements {
                period: parse::period(period)?,
            },
            source,
        ),
    };
    let file = &source.file;
    let source_dry_run = source.dry_run;
    let size = std::fs::metadata(file)
        .with_context(|| format!("while reading {}", file.display()))?
        .len();
    if size > purl_app::import::FILE_BYTES_MAX {
        bail!(
            "{} is {} MiB; an import takes at most {} MiB (split the file)",
            file.display(),
            size >> 20,
            purl_app::import::FILE_BYTES_MAX >> 20
        );
    }
    let bytes = std::fs::read(file).with_context(|| format!("while reading {}", file.display()))?;
    let name = file.display().to_string();
    let is_workbook = file
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("xlsx"));
    let source = if is_workbook {
        Source::Xlsx {
            bytes: &bytes,
            sheet: source.sheet.as_deref(),
        }
    } else {
        if source.sheet.is_some() {
            bail!("--sheet is for .xlsx files; {name} is read as CSV");
        }
        Source::Csv(&bytes)
    };
    let request = ImportRequest {
        kind,
        file: &name,
        source,
        idempotency_key: cli.idempotency_key.clone(),
        dry_run: source_dry_run,
    };
    let bar = crate::progress::bar(&name);
    let result = app
        .import_or_check(&Actor::Operator, request, &|step, done, total| {
            crate::progress::show(&bar, step, done, total);
        })
        .await;
    bar.finish_and_clear();
    let summary = result.map_err(explain)?;
    if cli.format == crate::cli::Format::Json {
        return output::json(&summary);
    }
    if summary.dry_run {
        say!(
            "ok (dry run): {}: {} row(s) checked, {} change(s) and {} event(s) would be written; nothing was written",
            summary.file,
            summary.rows,
            summary.commands,
            summary.written.events
        );
        return Ok(());
    }
    say!(
        "{}: {} row(s) read, {} change(s)",
        summary.file,
        summary.rows,
        summary.commands
    );
    for note in &summary.notes {
        say!("note: {note}");
    }
    output::written(cli.format, &summary.written)
}

fn to_command(command: &Command, state: &purl_core::state::State) -> anyhow::Result<Core> {
    Ok(match command {
        Command::Participant(ParticipantCommand::Add {
            code,
            name,
            party,
            alpha2,
            ally_since,
            partner,
        }) => {
            let membership = match (ally_since, partner) {
                (Some(date), _) => Membership::Ally {
                    joined_on: parse::date("--ally-since", date)?,
                },
                (None, true) => Membership::Partner,
                (None, false) => Membership::Organisation,
            };
            Core::AddParticipant {
                code: parse::participant(code)?,
                alpha2: alpha2.clone(),
                name: parse::name(name)?,
                membership,
                party: parse::party(party)?,
            }
        }
        Command::User(user) => user_command(user)?,
        Command::Catalogue(CatalogueCommand::Add {
            code,
            name,
            category,
            lethal,
            unit_price,
            lead_time_days,
        }) => Core::AddItem {
            code: parse::item(code)?,
            name: parse::name(name)?,
            category: parse::category(category)?,
            lethal: *lethal,
            unit_price: parse::usd("--unit-price", unit_price)?,
            lead_time_days: *lead_time_days,
        },
        Command::Catalogue(CatalogueCommand::Price {
            code,
            unit_price,
            lead_time_days,
        }) => Core::PriceItem {
            code: parse::item(code)?,
            unit_price: parse::usd("--unit-price", unit_price)?,
            lead_time_days: *lead_time_days,
        },
        Command::List(list) => list_command(list)?,
        Command::Pledge(pledge) => pledge_command(pledge, state)?,
        Command::Payment(PaymentCommand::Add {
            pledge,
            amount,
            currency,
            received_on,
            note,
        }) => Core::RecordPayment {
            pledge: parse::reference(pledge)?,
            amount: parse::money(amount, currency)?,
            received_on: parse::date("--received-on", received_on)?,
            note: parse::text("--note", note)?,
        },
        Command::Fx(FxCommand::Add {
            date,
            currency,
            usd_per_unit,
            source,
        }) => Core::RecordRates {
            rates: vec![FxRate {
                currency: parse::currency(currency)?,
                date: parse::date("--date", date)?,
                usd_per_unit: Ratio::parse_decimal(usd_per_unit)
                    .map_err(|e| anyhow::anyhow!("--usd-per-unit: {e}"))?,
                source: source.clone(),
            }],
        },
        Command::Package(package) => package_command(package)?,
        Command::Delivery(DeliveryCommand::Ship {
            package,
            line,
            quantity,
            shipped_on,
        }) => Core::ShipDelivery {
            package: *package,
            line_id: line.clone(),
            quantity: *quantity,
            shipped_on: parse::date("--shipped-on", shipped_on)?,
        },
        Command::Delivery(DeliveryCommand::Receive {
            id,
            received_on,
            quantity,
        }) => Core::ReceiveDelivery {
            id: id.clone(),
            received_on: parse::date("--received-on", received_on)?,
            quantity: *quantity,
        },
        other => bail!("{other:?} is not a write"),
    })
}

fn user_command(command: &UserCommand) -> anyhow::Result<Core> {
    Ok(match command {
        UserCommand::Add {
            username,
            participant,
            name,
            roles,
        } => Core::AddUser {
            username: parse::username(username)?,
            participant: parse::participant(participant)?,
            name: parse::name(name)?,
            roles: parse::roles(roles)?,
        },
        UserCommand::Roles { username, roles } => Core::SetUserRoles {
            username: parse::username(username)?,
            roles: parse::roles(roles)?,
        },
        UserCommand::Deactivate { username } => Core::SetUserActive {
            username: parse::username(username)?,
            active: false,
        },
        UserCommand::Activate { username } => Core::SetUserActive {
            username: parse::username(username)?,
            active: true,
        },
        UserCommand::List | UserCommand::ResetPassword { .. } => bail!("not a ledger write"),
    })
}

fn list_command(command: &ListCommand) -> anyhow::Result<Core> {
    Ok(match command {
        ListCommand::Create { period } => Core::CreateList {
            period: parse::period(period)?,
        },
        ListCommand::AddLine {
            period,
            item,
            quantity,
            needed_by,
            rank,
            justification,
        } => Core::AddLine {
            period: parse::period(period)?,
            rank: *rank,
            line: NewLine {
                item: parse::item(item)?,
                quantity: *quantity,
                needed_by: parse::date("--needed-by", needed_by)?,
                justification: parse::text("--justification", justification)?,
            },
        },
        ListCommand::UpdateLine {
            period,
            line,
            quantity,
            needed_by,
            justification,
        } => Core::UpdateLine {
            period: parse::period(period)?,
            line_id: line.clone(),
            quantity: *quantity,
            needed_by: needed_by
                .as_deref()
                .map(|d| parse::date("--needed-by", d))
                .transpose()?,
            justification: justification
                .as_deref()
                .map(|j| parse::text("--justification", j))
                .transpose()?,
        },
        ListCommand::MoveLine { period, line, rank } => Core::MoveLine {
            period: parse::period(period)?,
            line_id: line.clone(),
            rank: *rank,
        },
        ListCommand::RemoveLine { period, line } => Core::RemoveLine {
            period: parse::period(period)?,
            line_id: line.clone(),
        },
        ListCommand::NewVersion { period } => Core::DraftListVersion {
            period: parse::period(period)?,
        },
        ListCommand::Submit { period } => Core::SubmitList {
            period: parse::period(period)?,
        },
        ListCommand::Return { period } => Core::ReturnList {
            period: parse::period(period)?,
        },
        ListCommand::Approve {
            period,
            version,
            party,
        } => Core::ApproveList {
            period: parse::period(period)?,
            version: *version,
            party: parse::party(party)?,
        },
        ListCommand::All | ListCommand::Show { .. } | ListCommand::Diff { .. } => {
            bail!("not a write")
        }
    })
}

fn pledge_command(
    command: &PledgeCommand,
    state: &purl_core::state::State,
) -> anyhow::Result<Core> {
    Ok(match command {
        PledgeCommand::Add(fields) => Core::RecordPledge {
            pledge: new_pledge(fields, state)?,
        },
        PledgeCommand::Commit { reference } => Core::CommitPledge {
            reference: parse::reference(reference)?,
        },
        PledgeCommand::Withdraw { reference } => Core::WithdrawPledge {
            reference: parse::reference(reference)?,
        },
        PledgeCommand::Publish { reference } => Core::SetPledgePublic {
            reference: parse::reference(reference)?,
            public: true,
        },
        PledgeCommand::Unpublish { reference } => Core::SetPledgePublic {
            reference: parse::reference(reference)?,
            public: false,
        },
        PledgeCommand::SetAmount {
            reference,
            amount,
            currency,
        } => Core::SetPledgeAmount {
            reference: parse::reference(reference)?,
            amount: parse::money(amount, currency)?,
        },
        PledgeCommand::List | PledgeCommand::Show { .. } => bail!("not a write"),
    })
}

fn new_pledge(fields: &PledgeFields, state: &purl_core::state::State) -> anyhow::Result<NewPledge> {
    let currency = fields
        .currency
        .as_deref()
        .map(parse::currency)
        .transpose()?;
    let amount = match (&fields.amount, &fields.currency) {
        (Some(amount), Some(code)) => Some(parse::money(amount, code)?),
        (Some(_), None) => bail!("--currency: required with --amount"),
        (None, _) => None,
    };
    let status = PledgeStatus::parse(&fields.status)
        .filter(|s| *s != PledgeStatus::Withdrawn)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--status: '{}' is not announced or committed",
                fields.status
            )
        })?;
    let categories = fields
        .categories
        .as_deref()
        .map(|text| {
            text.split([';', ','])
                .map(parse::category)
                .collect::<anyhow::Result<_>>()
        })
        .transpose()?;
    Ok(NewPledge {
        reference: parse::reference(&fields.reference)?,
        contributors: parse::contributors(&fields.contributors, |code| {
            resolve_participant(state, code)
        })?,
        amount,
        currency,
        announced_on: parse::date("--announced-on", &fields.announced_on)?,
        status,
        part_of: fields
            .part_of
            .as_deref()
            .map(parse::reference)
            .transpose()?,
        earmark: Earmark {
            categories,
            lethal_allowed: !fields.non_lethal_only,
            package: fields.package,
        },
        conditions: parse::text("--conditions", &fields.conditions)?,
        public: fields.public,
        note: parse::text("--note", &fields.note)?,
    })
}

fn package_command(command: &PackageCommand) -> anyhow::Result<Core> {
    Ok(match command {
        PackageCommand::Form { .. } => bail!("not a single command"),
        PackageCommand::Create { name } => Core::CreatePackage { name: parse::name(name)? },
        PackageCommand::AddLine { number, period, line, quantity } => {
            Core::AddPackageLine { number: *number, period: parse::period(period)?, line_id: line.clone(), quantity: *quantity }
        }
        PackageCommand::Fund { number, pledge, amount, currency } => {
            Core::AllocateContribution { number: *number, pledge: parse::reference(pledge)?, amount: parse::money(amount, currency)? }
        }
        PackageCommand::Status { number, status } => Core::SetPackageStatus {
            number: *number,
            status: PackageStatus::parse(status).ok_or_else(|| {
                anyhow::anyhow!("status: '{status}' is not one of forming, funded, released, contracted, in-delivery, delivered, closed, cancelled")
            })?,
        },
        PackageCommand::List | PackageCommand::Show { .. } => bail!("not a write"),
    })
}
