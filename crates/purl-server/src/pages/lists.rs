//! Requirement lists as pages: the lists the reader may see, and for one list its versions, the
//! lines of a version in priority order with their value at catalogue prices, the approvals, and
//! — for the requester's editors on a draft — adding, editing, reordering and removing lines,
//! importing the whole list from a CSV or XLSX file, and submitting it; for each approving party,
//! approving the submitted version. A contributor sees only what need-to-know allows: the
//! totals by category and the lines of packages it funds.

use std::collections::BTreeMap;

use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use purl_app::import::{ImportKind, ImportRequest, Source};
use purl_core::catalogue::CatalogueItem;
use purl_core::command::Command;
use purl_core::list::{ListStatus, ListVersion, RequirementList};
use purl_core::money::format_minor;
use purl_core::participant::Party;
use purl_core::policy::{allows, Action};
use purl_core::user::Actor;
use serde::Deserialize;
use serde_json::Value;

use super::form::{self, Field, FormView, Kind, Sent, Submission};
use super::format::{grouped, urlencode};
use super::{failed, layout, paging, signed_in, unreadable, PageError};
use crate::identity::Caller;
use crate::problem::Problem;
use crate::routes::lists::{new_line, period, LineInput, MoveLine, UpdateLine};
use crate::Ctx;

/// The catalogue, by item code (for names, categories and prices beside each line).
async fn catalogue(
    ctx: &Ctx,
    caller: &Caller,
) -> Result<BTreeMap<String, CatalogueItem>, PageError> {
    let listed = ctx
        .app
        .items(&caller.reader(), paging::ALL)
        .await
        .map_err(|error| failed(caller, &error))?;
    Ok(paging::in_full::<CatalogueItem>(listed.items)
        .into_iter()
        .map(|item| (item.code.as_str().to_owned(), item))
        .collect())
}

fn status_of(version: &Value) -> &str {
    version.get("status").and_then(Value::as_str).unwrap_or("—")
}

/// `GET /lists`: every list the reader may see, with its latest version's status.
pub async fn index(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<paging::Offset>,
) -> Result<Markup, PageError> {
    index_page(&ctx, &caller, query.offset(), None).await
}

async fn index_page(
    ctx: &Ctx,
    caller: &Caller,
    offset: usize,
    sent: Option<&Sent>,
) -> Result<Markup, PageError> {
    let actor = signed_in(caller)?;
    let csrf = caller.csrf.as_deref().unwrap_or_default();
    let listed = ctx
        .app
        .lists(&caller.reader(), paging::page(offset))
        .await
        .map_err(|error| failed(caller, &error))?;
    let this_month = ctx.app.today().format("%Y-%m").to_string();
    let create = FormView::new("create", "/lists", "Create list")
        .heading("Start the list of a month")
        .field(Field::new("period", "Month (YYYY-MM)", Kind::Text).value(this_month));
    Ok(layout::page(
        "Requirement lists",
        Some(actor),
        caller.csrf.as_deref(),
        html! {
            p class="note" { (listed.total) " list(s). Each month's list is drafted by Ukraine's planners and approved by the requester, the coordinator and the supplier." }
            table class="sortable" {
                thead { tr {
                    th scope="col" { "month" }
                    th scope="col" class="number" { "versions" }
                    th scope="col" { "latest status" }
                    th scope="col" { "approved by" }
                } }
                tbody {
                    @for list in &listed.items {
                        @let period = list.get("period").and_then(Value::as_str).unwrap_or_default();
                        @let versions = list.get("versions").and_then(Value::as_array).cloned().unwrap_or_default();
                        @let latest = versions.last().cloned().unwrap_or(Value::Null);
                        tr {
                            td { a href={ "/lists/" (period) } { (period) } }
                            td class="number" { (versions.len()) }
                            td { (status_of(&latest)) }
                            td { (approvals(&latest).join(", ")) }
                        }
                    }
                }
            }
            (paging::links("/lists", "lists", offset, listed.next_offset))
            @if allows(actor, &Action::DraftList) { (create.render(csrf, sent)) }
        },
    ))
}

fn approvals(version: &Value) -> Vec<String> {
    version
        .get("approvals")
        .and_then(Value::as_array)
        .map(|parties| {
            parties
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `POST /lists`: creates the list of a month, then opens it.
pub async fn create(
    State(ctx): State<Ctx>,
    caller: Caller,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let sent = Submission::new(pairs);
    let month = sent.get("period").unwrap_or_default().to_owned();
    form::perform(
        &ctx,
        &caller,
        sent,
        |_| {
            Ok(Command::CreateList {
                period: period(&month)?,
            })
        },
        &format!("/lists/{}", urlencode(&month)),
        async |sent| index_page(&ctx, &caller, 0, Some(&sent)).await,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct VersionQuery {
    version: Option<u32>,
}

/// `GET /lists/{period}`: one list, a version of it (the latest unless `?version=`).
pub async fn editor(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(month): Path<String>,
    Query(query): Query<VersionQuery>,
) -> Result<Markup, PageError> {
    editor_page(&ctx, &caller, &month, query.version, None).await
}

/// What a party that sees lists in full may do with the version shown.
struct Powers {
    edit: bool,
    submit: bool,
    approve: Option<Party>,
    new_version: bool,
}

fn powers(actor: &Actor, list: &RequirementList, shown: &ListVersion) -> Powers {
    let latest = list.latest();
    let is_latest = latest.number == shown.number;
    let party = match actor {
        Actor::User { party, .. } => *party,
        Actor::Operator => Party::Coordinator,
    };
    let draft = is_latest && shown.status == ListStatus::Draft;
    Powers {
        edit: draft && allows(actor, &Action::DraftList),
        submit: draft && allows(actor, &Action::SubmitList) && !shown.lines.is_empty(),
        approve: (is_latest
            && shown.status == ListStatus::Submitted
            && !shown.approvals.contains(&party)
            && allows(actor, &Action::ApproveList { party }))
        .then_some(party),
        new_version: is_latest
            && shown.status == ListStatus::Approved
            && allows(actor, &Action::DraftList),
    }
}

async fn editor_page(
    ctx: &Ctx,
    caller: &Caller,
    month: &str,
    version: Option<u32>,
    sent: Option<&Sent>,
) -> Result<Markup, PageError> {
    let actor = signed_in(caller)?;
    let found = ctx
        .app
        .list(&caller.reader(), month)
        .await
        .map_err(|error| unreadable(caller, error))?;
    let title = format!("Requirement list {month}");
    let Ok(list) = serde_json::from_value::<RequirementList>(found.body.clone()) else {
        // Need-to-know: the contributor's view of the list.
        return Ok(layout::page(
            &title,
            Some(actor),
            caller.csrf.as_deref(),
            summary(&found.body),
        ));
    };
    let shown = match version {
        Some(number) => list.get_version(number).ok_or_else(PageError::not_found)?,
        None => list.latest(),
    };
    let items = catalogue(ctx, caller).await?;
    let csrf = caller.csrf.as_deref().unwrap_or_default();
    let powers = powers(actor, &list, shown);
    let action = |name: &str| format!("/lists/{month}/{name}");
    let waiting: Vec<&str> = purl_core::list::APPROVING_PARTIES
        .iter()
        .filter(|party| !shown.approvals.contains(party))
        .map(|party| party.as_str())
        .collect();
    Ok(layout::page(
        &title,
        Some(actor),
        caller.csrf.as_deref(),
        html! {
            nav class="versions" aria-label="Versions" {
                "Versions: "
                @for version in &list.versions {
                    @if version.number == shown.number {
                        strong { "v" (version.number) " (" (version.status.as_str()) ")" } " "
                    } @else {
                        a href={ "/lists/" (month) "?version=" (version.number) } { "v" (version.number) " (" (version.status.as_str()) ")" } " "
                    }
                }
            }
            p class="status" id="list-status" {
                "Version " (shown.number) " is " strong { (shown.status.as_str()) } ". "
                @if shown.status != ListStatus::Draft {
                    @if shown.approvals.is_empty() { "No approvals yet. " }
                    @else { "Approved by " (shown.approvals.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")) ". " }
                    @if shown.status == ListStatus::Submitted && !waiting.is_empty() {
                        "Waiting for " (waiting.join(", ")) "."
                    }
                }
            }
            p class="downloads" {
                "This list as a file: "
                a href={ "/api/v1/exports/requirements?period=" (month) "&format=xlsx" } { "XLSX" } ", "
                a href={ "/api/v1/exports/requirements?period=" (month) "&format=csv" } { "CSV" } "."
            }
            (form::inline_problem(sent))
            (lines_table(shown, &items, &powers, csrf, &action))
            @if powers.submit {
                (FormView::new("submit", action("submit"), "Submit for approval").render(csrf, sent))
            }
            @if let Some(party) = powers.approve {
                (FormView::new("approve", action("approve"), &format!("Approve version {} as {}", shown.number, party.as_str()))
                    .field(Field::hidden("version", shown.number.to_string()))
                    .render(csrf, sent))
            }
            @if powers.new_version {
                (FormView::new("new-version", action("new-version"), "Start a new version").render(csrf, sent))
            }
            @if powers.edit {
                (add_line_form(&items, &action("add-line"), ctx.app.today()).render(csrf, sent))
                (import_form(month, sent, csrf))
            }
            @if list.versions.len() > 1 { (diff_form(month, &list, shown.number)) }
        },
    ))
}

fn line_value(item: Option<&CatalogueItem>, quantity: u64) -> String {
    match item {
        Some(item) => {
            let minor = i128::from(item.unit_price.minor()) * i128::from(quantity);
            let currency = item.unit_price.currency();
            format!(
                "{currency} {}",
                grouped(&format_minor(minor, currency.exponent()))
            )
        }
        None => "no price".to_owned(),
    }
}

fn lines_table(
    shown: &ListVersion,
    items: &BTreeMap<String, CatalogueItem>,
    powers: &Powers,
    csrf: &str,
    action: &dyn Fn(&str) -> String,
) -> Markup {
    let count = shown.lines.len();
    html! {
        table id="lines" {
            caption { (count) " line(s), most urgent first" }
            thead { tr {
                th scope="col" class="number" { "rank" }
                th scope="col" { "line" }
                th scope="col" { "item" }
                th scope="col" { "category" }
                th scope="col" class="number" { "quantity" }
                th scope="col" { "needed by" }
                th scope="col" class="number" { "value at catalogue price" }
                th scope="col" { "justification" }
                @if powers.edit { th scope="col" { span class="visually-hidden" { "change" } } }
            } }
            tbody {
                @for (index, line) in shown.lines.iter().enumerate() {
                    @let rank = index + 1;
                    @let item = items.get(line.item.as_str());
                    tr {
                        td class="number" { (rank) }
                        td { (line.id) }
                        td { (line.item.as_str()) @if let Some(item) = item { " — " (item.name.as_str()) } }
                        td { (item.map(|item| item.category.as_str()).unwrap_or("—")) }
                        td class="number" { (grouped(&line.quantity.to_string())) }
                        td { (line.needed_by) }
                        td class="number" { (line_value(item, line.quantity)) }
                        td { (line.justification.as_str()) }
                        @if powers.edit {
                            td class="actions" {
                                @if rank > 1 {
                                    (FormView::new(format!("up-{}", line.id), action("move-line"), "↑")
                                        .field(Field::hidden("line", line.id.clone()))
                                        .field(Field::hidden("rank", (rank - 1).to_string()))
                                        .button(csrf, &format!("Move {} up", line.id)))
                                }
                                @if rank < count {
                                    (FormView::new(format!("down-{}", line.id), action("move-line"), "↓")
                                        .field(Field::hidden("line", line.id.clone()))
                                        .field(Field::hidden("rank", (rank + 1).to_string()))
                                        .button(csrf, &format!("Move {} down", line.id)))
                                }
                                (FormView::new(format!("remove-{}", line.id), action("remove-line"), "Remove")
                                    .field(Field::hidden("line", line.id.clone()))
                                    .button(csrf, &format!("Remove {}", line.id)))
                                details {
                                    summary { "Edit" }
                                    (FormView::new(format!("edit-{}", line.id), action("update-line"), "Save")
                                        .field(Field::hidden("line", line.id.clone()))
                                        .field(Field::new("quantity", "Quantity", Kind::Number).value(line.quantity.to_string()))
                                        .field(Field::new("needed_by", "Needed by", Kind::Date).value(line.needed_by.to_string()))
                                        .field(Field::new("justification", "Justification", Kind::Text).value(line.justification.as_str()).optional())
                                        .render(csrf, None))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn add_line_form(
    items: &BTreeMap<String, CatalogueItem>,
    action: &str,
    today: chrono::NaiveDate,
) -> FormView {
    let choices = items
        .values()
        .map(|item| {
            (
                item.code.as_str().to_owned(),
                format!("{} — {}", item.code.as_str(), item.name.as_str()),
            )
        })
        .collect();
    FormView::new("add", action, "Add line")
        .heading("Add a line")
        .field(Field::new("item", "Catalogue item", Kind::Choice(choices)))
        .field(Field::new("quantity", "Quantity", Kind::Number))
        .field(
            Field::new("needed_by", "Needed by (YYYY-MM-DD)", Kind::Date)
                .value((today + chrono::Days::new(60)).to_string()),
        )
        .field(Field::new("justification", "Justification", Kind::Text).optional())
        .field(Field::new("rank", "Rank (empty: after the last line)", Kind::Number).optional())
}

fn import_form(month: &str, sent: Option<&Sent>, csrf: &str) -> Markup {
    let problems = sent.filter(|sent| sent.message.starts_with("the file"));
    html! {
        h2 id="import-heading" { "Import the whole list from a file" }
        p class="note" { "A CSV or XLSX file with the columns of the requirements template (rank, item_code, item_name, category, lethal, unit_price_usd, quantity, needed_by, justification) becomes this draft. Every row is checked; nothing changes if any row is wrong." }
        form method="post" action={ "/lists/" (month) "/import" } enctype="multipart/form-data" class="form" aria-labelledby="import-heading" {
            input type="hidden" name="csrf" value=(csrf);
            label for="import-file" { "File" }
            input id="import-file" name="file" type="file" accept=".csv,.xlsx,text/csv" required;
            button type="submit" { "Import" }
        }
        @if let Some(sent) = problems {
            div class="problem" role="alert" id="import-problems" { (sent.message) }
        }
    }
}

fn diff_form(month: &str, list: &RequirementList, shown: u32) -> Markup {
    let choices = |selected: u32| {
        html! {
            @for version in &list.versions {
                option value=(version.number) selected[version.number == selected] { "v" (version.number) }
            }
        }
    };
    html! {
        h2 id="diff-heading" { "Compare two versions" }
        form method="get" action={ "/lists/" (month) "/diff" } class="form" aria-labelledby="diff-heading" {
            label for="diff-from" { "From" }
            select id="diff-from" name="from" { (choices(shown.saturating_sub(1).max(1))) }
            label for="diff-to" { "To" }
            select id="diff-to" name="to" { (choices(shown)) }
            button type="submit" { "Compare" }
        }
    }
}

/// The contributor's view of a list: its versions' totals by category and the lines of the
/// packages it funds.
fn summary(body: &Value) -> Markup {
    let versions = body
        .get("versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    html! {
        p class="note" { "You see the totals by category and the lines of the packages you fund." }
        @for version in &versions {
            h2 { "Version " (version.get("number").and_then(Value::as_u64).unwrap_or(0)) " (" (status_of(version)) ")" }
            table {
                thead { tr { th scope="col" { "category" } th scope="col" class="number" { "lines" } th scope="col" class="number" { "quantity" } th scope="col" class="number" { "value" } } }
                tbody {
                    @if let Some(totals) = version.get("totals_by_category").and_then(Value::as_object) {
                        @for (category, total) in totals {
                            tr {
                                td { (category) }
                                td class="number" { (total.get("lines").and_then(Value::as_u64).unwrap_or(0)) }
                                td class="number" { (grouped(&total.get("quantity").and_then(Value::as_u64).unwrap_or(0).to_string())) }
                                td class="number" { (money_value(total.get("value"))) }
                            }
                        }
                    }
                }
            }
            @if let Some(lines) = version.get("funded_lines").and_then(Value::as_array).filter(|lines| !lines.is_empty()) {
                h3 { "Lines of packages you fund" }
                ul { @for line in lines { li { (line.to_string()) } } }
            }
        }
    }
}

/// A serialised `Money` (`{"amount": "1.00", "currency": "USD"}`) as people read it.
pub fn money_value(value: Option<&Value>) -> String {
    match value {
        Some(Value::Object(money)) => format!(
            "{} {}",
            money.get("currency").and_then(Value::as_str).unwrap_or(""),
            grouped(money.get("amount").and_then(Value::as_str).unwrap_or(""))
        ),
        _ => "—".to_owned(),
    }
}

#[derive(Debug, Deserialize)]
pub struct DiffQuery {
    from: u32,
    to: u32,
}

/// `GET /lists/{period}/diff?from=&to=`: how one version differs from another, line by line.
pub async fn diff(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(month): Path<String>,
    Query(query): Query<DiffQuery>,
) -> Result<Markup, PageError> {
    let actor = signed_in(&caller)?;
    let found = ctx
        .app
        .list_diff(&caller.reader(), &month, query.from, query.to)
        .await
        .map_err(|error| unreadable(&caller, error))?;
    let changes = found.body.as_array().cloned().unwrap_or_default();
    Ok(layout::page(
        &format!("List {month}: v{} to v{}", query.from, query.to),
        Some(actor),
        caller.csrf.as_deref(),
        html! {
            p { a href={ "/lists/" (month) } { "Back to the list" } }
            @if changes.is_empty() { p { "The two versions have the same lines." } }
            @else {
                table id="diff" {
                    thead { tr { th scope="col" { "change" } th scope="col" { "line" } th scope="col" { "item" } th scope="col" { "what" } } }
                    tbody {
                        @for change in &changes {
                            tr {
                                td { (change.get("change").and_then(Value::as_str).unwrap_or("")) }
                                td { (change.get("line_id").and_then(Value::as_str).unwrap_or("")) }
                                td { (change.get("item").and_then(Value::as_str).unwrap_or("")) }
                                td { (describe_change(change)) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

fn describe_change(change: &Value) -> String {
    if let Some(fields) = change.get("fields").and_then(Value::as_array) {
        return fields
            .iter()
            .map(|field| {
                let text = |key: &str| field.get(key).and_then(Value::as_str).unwrap_or("");
                format!("{}: {} → {}", text("field"), text("from"), text("to"))
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    let number = |key: &str| change.get(key).and_then(Value::as_u64).unwrap_or(0);
    format!("rank {}, quantity {}", number("rank"), number("quantity"))
}

/// `POST /lists/{period}/{action}`: add-line, update-line, move-line, remove-line, submit,
/// approve or new-version.
pub async fn act(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path((month, action)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let actor = signed_in(&caller)?.clone();
    let sent = Submission::new(pairs);
    let list = month.clone();
    let command = move |sent: &Submission| -> Result<Command, Problem> {
        let line_id = || sent.get("line").unwrap_or_default().to_owned();
        Ok(match action.as_str() {
            "add-line" => {
                let line: LineInput = sent.decode()?;
                let rank = sent
                    .get("rank")
                    .filter(|rank| !rank.is_empty())
                    .map(|rank| {
                        rank.parse::<u32>()
                            .map_err(|_| Problem::invalid("rank", "must be a whole number from 1"))
                    })
                    .transpose()?;
                Command::AddLine {
                    period: period(&list)?,
                    rank,
                    line: new_line("", &line)?,
                }
            }
            "update-line" => sent.decode::<UpdateLine>()?.command(&list, line_id())?,
            "move-line" => Command::MoveLine {
                period: period(&list)?,
                line_id: line_id(),
                rank: sent.decode::<MoveLine>()?.rank,
            },
            "remove-line" => Command::RemoveLine {
                period: period(&list)?,
                line_id: line_id(),
            },
            "submit" => Command::SubmitList {
                period: period(&list)?,
            },
            "approve" => Command::ApproveList {
                period: period(&list)?,
                version: sent
                    .get("version")
                    .and_then(|number| number.parse().ok())
                    .ok_or_else(|| Problem::invalid("version", "must be a version number"))?,
                party: match &actor {
                    Actor::User { party, .. } => *party,
                    Actor::Operator => Party::Coordinator,
                },
            },
            "new-version" => Command::DraftListVersion {
                period: period(&list)?,
            },
            _ => return Err(Problem::not_found("no such action")),
        })
    };
    let back = format!("/lists/{}", urlencode(&month));
    form::perform(&ctx, &caller, sent, command, &back, async |sent| {
        editor_page(&ctx, &caller, &month, None, Some(&sent)).await
    })
    .await
}

/// `POST /lists/{period}/import` (multipart): the uploaded CSV or XLSX file becomes the draft.
pub async fn import(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(month): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    signed_in(&caller)?;
    let mut csrf = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Ok(Some(part)) = multipart.next_field().await {
        match part.name() {
            Some("csrf") => csrf = part.text().await.unwrap_or_default(),
            Some("file") => {
                let name = part.file_name().unwrap_or("list.csv").to_owned();
                let bytes = part.bytes().await.map_err(|_| {
                    PageError(
                        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                        "The file could not be read; it may be larger than this server accepts.",
                    )
                })?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    let sent = Submission::new(vec![
        ("csrf".into(), csrf),
        ("form".into(), "import".into()),
    ]);
    if !form::from_session(&caller, &sent) {
        return Err(super::not_from_session());
    }
    let (name, bytes) = file.unwrap_or_else(|| ("list.csv".to_owned(), Vec::new()));
    let workbook = name.to_ascii_lowercase().ends_with(".xlsx");
    let outcome = match period(&month) {
        Ok(period) => {
            let request = ImportRequest {
                kind: ImportKind::Requirements { period },
                file: &name,
                source: if workbook {
                    Source::Xlsx {
                        bytes: &bytes,
                        sheet: None,
                    }
                } else {
                    Source::Csv(&bytes)
                },
                idempotency_key: None,
                dry_run: false,
            };
            crate::routes::imports::run_import(&ctx, &caller, request).await
        }
        Err(problem) => Err(problem),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/lists/{}", urlencode(&month))).into_response()),
        Err(problem) => {
            let listed = problem
                .problems
                .iter()
                .map(|problem| {
                    let at = [
                        problem.row.map(|row| format!("row {row}")),
                        problem
                            .column
                            .as_ref()
                            .map(|column| format!("column {column}")),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ");
                    format!("{at}: {}", problem.message)
                })
                .collect::<Vec<_>>()
                .join("; ");
            let detail = if listed.is_empty() {
                format!("the file {name} was not imported: {}", problem.detail)
            } else {
                format!("the file {name} was not imported, nothing changed: {listed}")
            };
            let problem = Problem {
                detail,
                field: None,
                ..problem
            };
            form::refuse(&caller, sent, problem, async |sent| {
                editor_page(&ctx, &caller, &month, None, Some(&sent)).await
            })
            .await
        }
    }
}
