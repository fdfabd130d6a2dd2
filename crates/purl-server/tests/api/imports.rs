//! CSV files through the API: all rows or none, each problem with its row and column.

use reqwest::Method;
use serde_json::json;

use crate::support::*;

const HEADER: &str = "reference,contributors,amount,currency,announced_on,status,part_of,categories,lethal_allowed,package,conditions,public,note\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contributor_imports_its_pledges_from_a_csv_file_all_or_nothing() {
    let Some(server) = Server::start().await else {
        return;
    };
    let import = |user: &'static str, text: String| {
        let server = &server;
        async move {
            server
                .call(
                    Some(user),
                    Method::POST,
                    "/api/v1/imports/pledges?name=nl.csv",
                    Some(json!(text)),
                    &[],
                )
                .await
        }
    };
    let good = format!(
        "{HEADER}NLD-A,NL,1000000,EUR,2026-11-01,committed,,,true,,,true,\nNLD-B,NL,2000000,EUR,2026-11-02,announced,,,true,,,false,\n"
    );
    let head = server.ctx.app.state().await.unwrap().head;
    let bad = format!(
        "{HEADER}NLD-C,NL,1000000,EUR,2026-11-01,committed,,,true,,,true,\nNLD-D,NL,12x,EUR,2026-13-02,announced,,,true,,,false,\n"
    );
    let refused = import(FUNDER, bad).await.expect(422);
    let problems = refused.json["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["row"] == 3 && p["column"] == "amount" && p["file"] == "nl.csv"),
        "{}",
        refused.text
    );
    assert!(
        problems.iter().any(|p| p["column"] == "announced_on"),
        "{}",
        refused.text
    );
    assert_eq!(
        server.ctx.app.state().await.unwrap().head,
        head,
        "nothing written"
    );

    let imported = import(FUNDER, good.clone()).await.expect(201);
    assert_eq!(imported.json["rows"], 2);
    server
        .get(Some(FUNDER), "/api/v1/pledges/NLD-B")
        .await
        .expect(200);

    // Another contributor cannot record NLD's pledges; a party that records none may not import.
    let other = import(OTHER, good.replace("NLD-", "X-")).await.expect(422);
    assert!(other.text.contains("not permitted"), "{}", other.text);
    import(SUPPLIER, good).await.expect(403);
    // The same rows as an Excel workbook.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (row, line) in
        (0u32..).zip(format!("{HEADER}NLD-E,NL,,EUR,2026-11-05,announced,,,true,,,false,").lines())
    {
        for (column, cell) in (0u16..).zip(line.split(',')) {
            sheet.write_string(row, column, cell).unwrap();
        }
    }
    sheet.write_number(1, 2, 750_000.25).unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let reply = server
        .client
        .post(format!(
            "{}/api/v1/imports/pledges?name=nl.xlsx",
            server.base
        ))
        .bearer_auth(server.token(FUNDER))
        .header(
            "content-type",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 201);
    let pledge = server
        .get(Some(FUNDER), "/api/v1/pledges/NLD-E")
        .await
        .expect(200);
    assert_eq!(pledge.json["amount"]["amount"], "750000.25");

    let wrong_type = server
        .post(Some(FUNDER), "/api/v1/imports/pledges", json!({"rows": []}))
        .await
        .expect(415);
    assert_eq!(wrong_type.json["code"], "unsupported-media-type");
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_download_as_csv_and_xlsx_with_exactly_the_rows_the_caller_may_see() {
    use calamine::{Data, Reader, Xlsx};
    let Some(server) = Server::start().await else {
        return;
    };
    crate::round::play(&server).await;
    let csv = server
        .get(Some(COORDINATOR), "/api/v1/pledges?format=csv")
        .await
        .expect(200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(
        csv.text.contains("NLD-2026-1") && csv.text.contains("10000000.00"),
        "{}",
        csv.text
    );
    let other = server
        .get(Some(OTHER), "/api/v1/pledges?format=csv")
        .await
        .expect(200);
    assert!(!other.text.contains("NLD-2026-1"), "{}", other.text);
    assert!(other.text.contains("NORDIC-2026-1"));

    let download = |user: &'static str| {
        let server = &server;
        async move {
            let reply = server
                .client
                .get(format!("{}/api/v1/pledges?format=xlsx", server.base))
                .bearer_auth(server.token(user))
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status().as_u16(), 200);
            let bytes = reply.bytes().await.unwrap();
            let mut book = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
            book.worksheet_range("pledges").unwrap()
        }
    };
    let sheet = download(FUNDER).await;
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let nld = sheet
        .rows()
        .find(|row| row[column("reference")] == Data::String("NLD-2026-1".into()))
        .expect("the funder's own pledge");
    assert_eq!(nld[column("amount")], Data::Float(10_000_000.0));
    assert_eq!(nld[column("amount_currency")], Data::String("EUR".into()));
    let seen: Vec<String> = download(OTHER)
        .await
        .rows()
        .flat_map(|row| row.iter().map(ToString::to_string).collect::<Vec<_>>())
        .collect();
    assert!(seen.iter().any(|text| text == "NORDIC-2026-1"), "{seen:?}");
    assert!(
        seen.iter().all(|text| !text.contains("NLD-2026-1")),
        "{seen:?}"
    );
    let refused = server
        .get(Some(OTHER), "/api/v1/pledges?format=pdf")
        .await
        .expect(422);
    assert_eq!(refused.json["field"], "format");
    server.finish().await;
}
