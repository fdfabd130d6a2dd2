//! The forms of the pages. A form is drawn from its fields, each with its label; when a form
//! comes back refused, what was typed is kept and the problem is shown beside the field it
//! concerns. A sent form is decoded into the API's own input types, so a page accepts and refuses
//! exactly what the API does, and runs its command through the same writer.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use purl_core::command::Command;
use serde::de::DeserializeOwned;

use super::{failed, not_from_session, PageError};
use crate::identity::Caller;
use crate::problem::Problem;
use crate::Ctx;

/// How a field is entered.
pub enum Kind {
    Text,
    /// A whole number.
    Number,
    /// A decimal amount, e.g. `2500000.00`.
    Decimal,
    /// `YYYY-MM-DD`.
    Date,
    /// One of these (value, label) pairs.
    Choice(Vec<(String, String)>),
    Hidden,
}

pub struct Field {
    name: &'static str,
    label: String,
    kind: Kind,
    value: String,
    required: bool,
}

impl Field {
    pub fn new(name: &'static str, label: impl Into<String>, kind: Kind) -> Self {
        Field {
            name,
            label: label.into(),
            kind,
            value: String::new(),
            required: true,
        }
    }

    pub fn hidden(name: &'static str, value: impl Into<String>) -> Self {
        Field::new(name, "", Kind::Hidden).value(value)
    }

    /// The value shown when the form is first drawn.
    pub fn value(self, value: impl Into<String>) -> Self {
        Field {
            value: value.into(),
            ..self
        }
    }

    pub fn optional(self) -> Self {
        Field {
            required: false,
            ..self
        }
    }
}

/// A form on a page. `id` is unique on the page and prefixes its fields' ids.
pub struct FormView {
    id: String,
    action: String,
    submit: String,
    heading: Option<String>,
    fields: Vec<Field>,
}

/// A form sent back refused: which form, what was typed and what is wrong (with the field, when
/// the problem is about one).
pub struct Sent {
    form: String,
    values: Vec<(String, String)>,
    field: Option<String>,
    pub message: String,
}

impl Sent {
    fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

impl FormView {
    pub fn new(id: impl Into<String>, action: impl Into<String>, submit: &str) -> Self {
        FormView {
            id: id.into(),
            action: action.into(),
            submit: submit.to_owned(),
            heading: None,
            fields: Vec::new(),
        }
    }

    pub fn heading(self, heading: &str) -> Self {
        FormView {
            heading: Some(heading.to_owned()),
            ..self
        }
    }

    pub fn field(mut self, field: Field) -> Self {
        self.fields.push(field);
        self
    }

    /// A one-button form (its fields hidden), drawn inline, e.g. in a table row.
    pub fn button(&self, csrf: &str, label_for_screen_readers: &str) -> Markup {
        html! {
            form method="post" action=(self.action) class="inline" id={ "form-" (self.id) } {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="form" value=(self.id);
                input type="hidden" name="inline" value="yes";
                @for field in &self.fields {
                    input type="hidden" name=(field.name) value=(field.value);
                }
                button type="submit" aria-label=(label_for_screen_readers) { (self.submit) }
            }
        }
    }

    /// The whole form, with `sent`'s values and problem if it is this form coming back.
    pub fn render(&self, csrf: &str, sent: Option<&Sent>) -> Markup {
        let sent = sent.filter(|sent| sent.form == self.id);
        let heading_id = format!("{}-heading", self.id);
        let form_problem = sent.filter(|sent| {
            sent.field
                .as_deref()
                .is_none_or(|name| !self.fields.iter().any(|field| field.name == name))
        });
        html! {
            @if let Some(heading) = &self.heading { h2 id=(heading_id) { (heading) } }
            form method="post" action=(self.action) class="form" id={ "form-" (self.id) }
                aria-labelledby=[self.heading.as_ref().map(|_| heading_id.as_str())] {
                @if let Some(sent) = form_problem {
                    p class="problem" role="alert" { (sent.message) }
                }
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="form" value=(self.id);
                @for field in &self.fields { (self.input(field, sent)) }
                button type="submit" { (self.submit) }
            }
        }
    }

    fn input(&self, field: &Field, sent: Option<&Sent>) -> Markup {
        let id = format!("{}-{}", self.id, field.name);
        let problem = sent.filter(|sent| sent.field.as_deref() == Some(field.name));
        let problem_id = format!("{id}-problem");
        let described = problem.map(|_| problem_id.as_str());
        let value = sent
            .and_then(|sent| sent.value(field.name))
            .unwrap_or(&field.value);
        let (kind, mode, pattern, placeholder) = match &field.kind {
            Kind::Number => ("text", Some("numeric"), Some("[0-9]+"), None),
            Kind::Decimal => ("text", Some("decimal"), None, None),
            Kind::Date => (
                "text",
                Some("numeric"),
                Some("[0-9]{4}-[0-9]{2}-[0-9]{2}"),
                Some("YYYY-MM-DD"),
            ),
            _ => ("text", None, None, None),
        };
        html! {
            @match &field.kind {
                Kind::Hidden => { input type="hidden" name=(field.name) value=(value); }
                Kind::Choice(choices) => {
                    label for=(id) { (field.label) }
                    select id=(id) name=(field.name) aria-describedby=[described] {
                        @for (choice, label) in choices {
                            option value=(choice) selected[choice == value] { (label) }
                        }
                    }
                }
                _ => {
                    label for=(id) { (field.label) }
                    input id=(id) name=(field.name) type=(kind) value=(value) required[field.required]
                        inputmode=[mode] pattern=[pattern] placeholder=[placeholder]
                        autocomplete="off" aria-describedby=[described];
                }
            }
            @if let Some(problem) = problem {
                p class="problem" role="alert" id=(problem_id) { (problem.message) }
            }
        }
    }
}

/// A sent form's fields, as sent.
pub struct Submission {
    pairs: Vec<(String, String)>,
}

/// Fields every form carries that are not the command's.
const FRAME_FIELDS: [&str; 3] = ["csrf", "form", "inline"];

impl Submission {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Submission { pairs }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
    }

    /// The form's fields (empty ones left out, as if absent) decoded into the API's input type;
    /// a problem names the field.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, Problem> {
        let filled: Vec<(&str, &str)> = self
            .pairs
            .iter()
            .filter(|(key, value)| {
                !FRAME_FIELDS.contains(&key.as_str()) && !value.trim().is_empty()
            })
            .map(|(key, value)| (key.as_str(), value.trim()))
            .collect();
        let encoded = serde_urlencoded::to_string(&filled)
            .map_err(|error| Problem::invalid("form", error))?;
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(encoded.as_bytes()));
        serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let path = error.path().to_string();
            let detail = error.inner().to_string();
            let field = if path == "." {
                detail
                    .split_once("missing field `")
                    .and_then(|(_, rest)| rest.split_once('`'))
                    .map(|(name, _)| name.to_owned())
            } else {
                Some(path)
            };
            match field {
                Some(field) if detail.starts_with("missing field") => {
                    Problem::invalid(&field, "is required")
                }
                Some(field) => Problem::invalid(&field, format!("is not valid ({detail})")),
                None => Problem::invalid("form", detail),
            }
        })
    }

    /// The same form refused with `problem`, to draw again.
    pub fn refused(self, problem: Problem) -> Sent {
        let field = problem.field.map(|field| {
            field
                .split(['[', '.'])
                .next()
                .unwrap_or_default()
                .to_owned()
        });
        let form = self.get("form").unwrap_or_default().to_owned();
        Sent {
            form,
            values: self.pairs,
            field,
            message: problem.detail,
        }
    }
}

/// The problem of a one-button form (which has no place of its own to show it), at the top of
/// the page; nothing for any other form.
pub fn inline_problem(sent: Option<&Sent>) -> Markup {
    html! {
        @if let Some(sent) = sent.filter(|sent| sent.value("inline").is_some()) {
            p class="problem" role="alert" id="action-problem" { (sent.message) }
        }
    }
}

/// Whether the form carries the caller's session CSRF token.
pub fn from_session(caller: &Caller, sent: &Submission) -> bool {
    super::form_is_from_session(caller, sent.get("csrf").unwrap_or_default())
}

/// Runs the command a sent form makes, as the API would, then goes to `done`. A refused command
/// draws the page again (`again`) with the problem beside the field and the status the API gives.
pub async fn perform(
    ctx: &Ctx,
    caller: &Caller,
    sent: Submission,
    command: impl FnOnce(&Submission) -> Result<Command, Problem>,
    done: &str,
    again: impl AsyncFnOnce(Sent) -> Result<Markup, PageError>,
) -> Result<Response, PageError> {
    if caller.actor.is_none() {
        return Ok(Redirect::to("/sign-in").into_response());
    }
    if !from_session(caller, &sent) {
        return Err(not_from_session());
    }
    let outcome = match command(&sent) {
        Ok(command) => crate::write::run(ctx, caller, &HeaderMap::new(), command)
            .await
            .map(|_| ()),
        Err(problem) => Err(problem),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(done).into_response()),
        Err(problem) => refuse(caller, sent, problem, again).await,
    }
}

/// The page drawn again with `problem` beside its field, with the status the API would give.
pub async fn refuse(
    caller: &Caller,
    sent: Submission,
    problem: Problem,
    again: impl AsyncFnOnce(Sent) -> Result<Markup, PageError>,
) -> Result<Response, PageError> {
    if problem.status >= 500 {
        return Err(failed(caller, &problem.detail));
    }
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    let markup = again(sent.refused(problem)).await?;
    Ok((status, markup).into_response())
}
