//! The OpenAPI document completed with what the handlers' annotations leave implicit, in one
//! place: every error is an `application/problem+json` document, every operation may answer the
//! errors every request can meet, a list may be downloaded as CSV or XLSX, and the bounds the
//! server enforces on shared parameters are stated (so a client, or a fuzzer, can tell a valid
//! request from an invalid one by the document alone).

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, Object, Schema, SchemaFormat};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};

const PROBLEM: &str = "application/problem+json";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Errors any request may meet: bad syntax, no or a bad credential, not permitted, not found (or
/// not visible), too many attempts, the server failed, storage unavailable.
const EVERY_REQUEST: [(&str, &str); 8] = [
    (
        "400",
        "the request is malformed (a parameter or the body cannot be read)",
    ),
    ("401", "no valid session or API token"),
    ("403", "not permitted"),
    ("404", "no such record, or one the caller may not see"),
    (
        "422",
        "the request is well-formed but refused (the problem says which field)",
    ),
    (
        "429",
        "too many attempts; retry after `Retry-After` seconds",
    ),
    (
        "500",
        "the server failed (the problem carries only a request id)",
    ),
    (
        "503",
        "storage is unavailable; retry after `Retry-After` seconds",
    ),
];
/// Errors of a request that sends a body or changes something.
const EVERY_WRITE: [(&str, &str); 4] = [
    (
        "409",
        "conflicts with the current state, or reuses an idempotency key",
    ),
    ("412", "the record changed since the version in `If-Match`"),
    ("413", "the body is too large"),
    (
        "415",
        "the body is not of a media type this operation takes",
    ),
];

/// The format of each request-body field the server checks, by schema and property (an array's
/// items where the property is a list), from the parsers' own expressions. Listed only where the
/// handler parses the field whenever it is present, so a value outside the format is always
/// refused.
fn body_formats() -> Vec<(&'static str, &'static str, String)> {
    use purl_core::patterns::{
        category, currency, date, item_code, name, package_status, participant_code, party, period,
        positive_decimal, reference, short_text, username,
    };
    vec![
        ("NewPledgeInput", "reference", reference()),
        ("NewPledgeInput", "contributors", participant_code()),
        ("NewPledgeInput", "amount", positive_decimal()),
        ("NewPledgeInput", "currency", currency()),
        ("NewPledgeInput", "announced_on", date()),
        ("NewPledgeInput", "part_of", reference()),
        ("EarmarkInput", "categories", category()),
        ("Amount", "amount", positive_decimal()),
        ("Amount", "currency", currency()),
        ("ContributionInput", "pledge", reference()),
        ("ContributionInput", "amount", positive_decimal()),
        ("ContributionInput", "currency", currency()),
        ("NewPayment", "pledge", reference()),
        ("NewPayment", "amount", positive_decimal()),
        ("NewPayment", "currency", currency()),
        ("NewPayment", "received_on", date()),
        ("AllocationInput", "period", period()),
        ("FormInput", "target_usd", positive_decimal()),
        ("NewList", "period", period()),
        ("LineInput", "item", item_code()),
        ("LineInput", "needed_by", date()),
        ("UpdateLine", "needed_by", date()),
        ("PackageLineInput", "period", period()),
        ("Shipment", "shipped_on", date()),
        ("Receipt", "received_on", date()),
        ("NewUser", "username", username()),
        ("NewUser", "participant", participant_code()),
        ("NewItem", "code", item_code()),
        ("NewItem", "name", name()),
        ("NewItem", "category", category()),
        ("NewItem", "unit_price", positive_decimal()),
        ("Price", "unit_price", positive_decimal()),
        ("NewRate", "currency", currency()),
        ("NewRate", "date", date()),
        ("NewRate", "usd_per_unit", positive_decimal()),
        ("NewParticipant", "code", participant_code()),
        ("NewParticipant", "name", name()),
        ("NewParticipant", "ally_since", date()),
        ("NewParticipant", "party", party()),
        ("NewUser", "name", name()),
        ("NewPackage", "name", name()),
        ("StatusInput", "status", package_status()),
        (
            "NewToken",
            "name",
            short_text(purl_core::limits::TOKEN_NAME_CHARS_MAX),
        ),
    ]
}

/// The format of a path or query parameter the server checks, by path and name.
fn parameter_format(path: &str, name: &str, within: &ParameterIn) -> Option<String> {
    use purl_core::patterns::{date, item_code, participant_code, period, reference, username};
    match (name, within) {
        ("period" | "from_period" | "to_period", _) => Some(period()),
        ("as_of", ParameterIn::Query) => Some(date()),
        ("monthly_need", ParameterIn::Query) => Some(purl_core::patterns::positive_decimal()),
        ("reference", ParameterIn::Path) => Some(reference()),
        ("username", ParameterIn::Path) => Some(username()),
        ("code", ParameterIn::Path) if path.starts_with("/api/v1/catalogue/") => Some(item_code()),
        ("code", ParameterIn::Path) if path.starts_with("/api/v1/participants/") => {
            Some(participant_code())
        }
        _ => None,
    }
}

pub fn complete(document: &mut OpenApi) {
    if let Some(components) = document.components.as_mut() {
        for (schema, property, pattern) in body_formats() {
            let found = components
                .schemas
                .get_mut(schema)
                .and_then(|schema| match schema {
                    RefOr::T(Schema::Object(object)) => object.properties.get_mut(property),
                    _ => None,
                });
            let field = match found {
                Some(RefOr::T(Schema::Object(field))) => Some(field),
                Some(RefOr::T(Schema::Array(list))) => match &mut list.items {
                    utoipa::openapi::schema::ArrayItems::RefOrSchema(items) => match items.as_mut()
                    {
                        RefOr::T(Schema::Object(field)) => Some(field),
                        _ => None,
                    },
                    utoipa::openapi::schema::ArrayItems::False => None,
                },
                _ => None,
            };
            let field = field.unwrap_or_else(|| panic!("no string field {schema}.{property}"));
            field.pattern = Some(pattern);
        }
    }
    for (path, item) in document.paths.paths.iter_mut() {
        for (operation, writes) in [
            (&mut item.get, false),
            (&mut item.delete, true),
            (&mut item.post, true),
            (&mut item.put, true),
            (&mut item.patch, true),
        ] {
            if let Some(operation) = operation {
                complete_operation(path, operation, writes);
            }
        }
    }
}

fn complete_operation(path: &str, operation: &mut Operation, writes: bool) {
    let problem = || {
        let mut content = Content::new(Some(Ref::from_schema_name("Problem")));
        content.example = None;
        content
    };
    let mut downloadable = false;
    for parameter in operation.parameters.iter_mut().flatten() {
        let (name, within) = (parameter.name.as_str(), &parameter.parameter_in);
        let bounds: Option<(Option<u64>, Option<u64>, Option<String>)> = match (name, within) {
            ("limit", ParameterIn::Query) => Some((Some(1), Some(1000), None)),
            ("offset", ParameterIn::Query) => Some((Some(0), Some(u64::MAX), None)),
            // A consistency proof starts from a tree of at least one event.
            ("from" | "to", ParameterIn::Query) if path.ends_with("/proofs/consistency") => {
                Some((Some(1), None, None))
            }
            ("format", ParameterIn::Query) => {
                downloadable = true;
                Some((None, None, Some("^(json|csv|xlsx)$".to_owned())))
            }
            _ => parameter_format(path, name, within).map(|format| (None, None, Some(format))),
        };
        if let Some(RefOr::T(Schema::Object(object))) = parameter.schema.as_mut() {
            unsigned(object);
            if let Some((minimum, maximum, pattern)) = bounds {
                bound(object, minimum, maximum, pattern);
            }
        }
    }
    let responses = &mut operation.responses.responses;
    for (status, response) in responses.iter_mut() {
        if let (true, RefOr::T(response)) = (status.as_str() >= "400", response) {
            response.content.clear();
            response.content.insert(PROBLEM.to_owned(), problem());
        }
    }
    let errors = EVERY_REQUEST
        .iter()
        .chain(if writes { &EVERY_WRITE[..] } else { &[] });
    for (status, description) in errors {
        responses.entry((*status).to_owned()).or_insert_with(|| {
            let mut response = Response::new(*description);
            response.content.insert(PROBLEM.to_owned(), problem());
            RefOr::T(response)
        });
    }
    if downloadable {
        if let Some(RefOr::T(ok)) = responses.get_mut("200") {
            ok.content
                .insert("text/csv".to_owned(), Content::new(None::<RefOr<Schema>>));
            ok.content
                .insert(XLSX.to_owned(), Content::new(None::<RefOr<Schema>>));
        }
    }
}

/// An unsigned integer is written as a signed one with minimum 0; its real maximum is stated, so
/// the document does not claim that, say, a `u32` ends at 2^31 - 1.
fn unsigned(object: &mut Object) {
    let zero = object.minimum.as_ref().is_some_and(|minimum| {
        matches!(minimum, utoipa::Number::UInt(0) | utoipa::Number::Int(0))
            || matches!(minimum, utoipa::Number::Float(value) if *value == 0.0)
    });
    let maximum = match &object.format {
        Some(SchemaFormat::KnownFormat(KnownFormat::Int32)) => u64::from(u32::MAX),
        Some(SchemaFormat::KnownFormat(KnownFormat::Int64)) => u64::MAX,
        _ => return,
    };
    if zero {
        object.format = None;
        object.maximum = usize::try_from(maximum).ok().map(utoipa::Number::UInt);
    }
}

fn bound(object: &mut Object, minimum: Option<u64>, maximum: Option<u64>, pattern: Option<String>) {
    let number = |value: u64| usize::try_from(value).ok().map(utoipa::Number::UInt);
    if let Some(minimum) = minimum {
        object.minimum = number(minimum);
    }
    if let Some(maximum) = maximum {
        object.maximum = number(maximum);
    }
    if let Some(pattern) = pattern {
        object.pattern = Some(pattern);
    }
}
