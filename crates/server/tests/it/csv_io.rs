//! CSV export and import through the data API (docs/data.md, "CSV").

use crate::harness::{Session, TestApp, error_of, json_of, spawn};
use reqwest::StatusCode;
use serde_json::json;

async fn customer(admin: &Session, name: &str, email: &str) -> String {
    json_of(
        admin
            .post("/api/data/Customer")
            .json(&json!({ "name": name, "email": email }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn import(s: &Session, object: &str, dry: bool, csv: &str) -> reqwest::Response {
    s.post(&format!("/api/data/{object}/import?dryRun={dry}"))
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap()
}

async fn count(s: &Session, object: &str) -> u64 {
    s.get_json(&format!("/api/data/{object}?perPage=1")).await["total"]
        .as_u64()
        .unwrap()
}

/// Rows of a CSV text, header first.
fn rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn export_streams_what_the_filters_select_with_titles_beside_ids() {
    let app = spawn().await;
    let admin = app.admin().await;
    let acme = customer(&admin, "Acme, Inc.", "a@acme.test").await;
    let other = customer(&admin, "Other", "o@other.test").await;
    for (c, amount) in [(&acme, "10"), (&acme, "20.5"), (&other, "30")] {
        admin
            .post("/api/data/Order")
            .json(&json!({ "customer": c, "amount": amount }))
            .send()
            .await
            .unwrap();
    }
    let r = admin
        .get(&format!("/api/data/Order?format=csv&customer={acme}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("Order.csv")
    );
    let table = rows(&r.text().await.unwrap());
    let header = &table[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(header[0], "id");
    assert_eq!(col("customer.title"), col("customer") + 1);
    assert_eq!(table.len(), 3, "two orders of Acme: {table:?}");
    for row in &table[1..] {
        assert_eq!(row[col("customer")], acme);
        assert_eq!(row[col("customer.title")], "Acme, Inc.", "quoted as CSV");
        assert!(row[col("number")].starts_with("SO-"));
        assert_eq!(row[col("status")], "draft");
    }
    let amounts: Vec<&str> = table[1..]
        .iter()
        .map(|r| r[col("amount")].as_str())
        .collect();
    assert!(amounts.contains(&"20.50"), "exact decimals: {amounts:?}");

    let (status, code, _) = error_of(
        admin
            .get("/api/data/Order?format=xml")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    app.create_user(&admin, "nobody", &[]).await;
    let nobody = app.login("nobody", "nobody-password").await;
    let (status, _, _) = error_of(
        nobody
            .get("/api/data/Order?format=csv")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_import_with_a_bad_row_writes_nothing_and_names_row_column_and_rule() {
    let app = spawn().await;
    let admin = app.admin().await;
    customer(&admin, "Acme", "a@acme.test").await;
    customer(&admin, "Twin", "t1@twin.test").await;
    customer(&admin, "Twin", "t2@twin.test").await;
    let csv = "customer.title,amount,Currency,orderDate\n\
               Acme,10.00,CNY,2026-11-01\n\
               Acme,abc,USD,2026-11-02\n\
               Nobody,5,EUR,\n\
               Twin,5,人民币,\n\
               Acme,7,GBP,\n";
    let report = json_of(
        import(&admin, "Order", false, csv).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(report["rows"], 5);
    assert_eq!(report["created"], 0);
    assert_eq!(report["failedRows"], 4);
    let errors: Vec<(u64, String, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap().to_owned(),
                e["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (3, "amount".into(), "type".into()),
            (4, "customer.title".into(), "reference".into()),
            (5, "customer.title".into(), "reference".into()),
            (6, "Currency".into(), "values".into()),
        ],
        "{report}"
    );
    assert!(
        report["errors"][2]["message"]
            .as_str()
            .unwrap()
            .contains("2 Customer records are titled 'Twin'")
    );
    assert_eq!(count(&admin, "Order").await, 0, "nothing written");

    // Fixed, checked first, then imported: numbered in file order. The reference's own
    // column takes an id or a title.
    let good = "customer,amount,currency,orderDate\n\
                Acme,10.00,CNY,2026-11-01\n\
                Acme,12.5,美元,2026-11-02\n";
    let dry = json_of(import(&admin, "Order", true, good).await, StatusCode::OK).await;
    assert_eq!(
        (dry["rows"].as_u64(), dry["created"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(count(&admin, "Order").await, 0, "a dry run writes nothing");
    let done = json_of(
        import(&admin, "Order", false, good).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(done["created"], 2);
    let list = admin.get_json("/api/data/Order?sort=number").await;
    let got: Vec<(&str, &str, &str)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["number"].as_str().unwrap(),
                o["amount"].as_str().unwrap(),
                o["currency"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![("SO-000001", "10.00", "CNY"), ("SO-000002", "12.50", "USD")]
    );
    let audit = crate::harness::audit_entries(&admin, "record.import").await;
    assert_eq!(audit.len(), 1, "one audit entry per import that writes");
    assert_eq!(audit[0]["details"]["created"], 2);
}

#[tokio::test]
async fn unique_values_clash_within_the_file_and_with_stored_records() {
    let app = spawn().await;
    let admin = app.admin().await;
    customer(&admin, "Acme", "a@acme.test").await;
    let csv = "name,email,tier\n\
               One,one@x.test,Gold\n\
               Two,TWO@x.test,silver\n\
               Again,two@x.test,\n\
               Acme again,A@acme.test,\n";
    let report = json_of(
        import(&admin, "Customer", false, csv).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let failed: Vec<(u64, &str, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap(),
                e["rule"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        vec![(4, "email", "unique"), (5, "email", "unique")],
        "{report}"
    );
    assert_eq!(count(&admin, "Customer").await, 1);
    // Labels in any language name columns and enum values; the export's system
    // columns are ignored on the way back in.
    let csv = "id,名称,Email,等级,status,createdAt\n\
               x,One,one@x.test,金牌,active,2020\n";
    let done = json_of(
        import(&admin, "Customer", false, csv).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(done["ignoredColumns"], json!(["id", "status", "createdAt"]));
    let one = admin.get_json("/api/data/Customer?name=One").await;
    assert_eq!(one["items"][0]["tier"], "gold");
    assert_eq!(
        one["items"][0]["status"], "lead",
        "the state is the flow's to set"
    );
}

#[tokio::test]
async fn imports_are_refused_whole_for_bad_headers_and_missing_permission() {
    let app: TestApp = spawn().await;
    let admin = app.admin().await;
    let (status, _, body) =
        error_of(import(&admin, "Customer", false, "name,shoeSize\nA,42\n").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("shoeSize"),
        "{body}"
    );
    let (status, _, _) = error_of(import(&admin, "Nope", false, "name\nA\n").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    admin
        .post("/api/users")
        .json(&json!({ "username": "samuel", "password": "samuel-password", "roles": [], "businessRoles": ["sales"] }))
        .send()
        .await
        .unwrap();
    let sam = app.login("samuel", "samuel-password").await;
    let (status, _, _) = error_of(
        import(
            &sam,
            "FinancialTransaction",
            false,
            "kind,amount\npayment,1\n",
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A required field left out fails every row, by name.
    let report = json_of(
        import(&sam, "Customer", true, "email\na@b.test\n").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(report["errors"][0]["column"], "name");
    assert_eq!(report["errors"][0]["rule"], "required");
    assert_eq!(report["dryRun"], true);
    // A row that is not text (here: not UTF-8) fails as a row, and nothing is written.
    let mut bytes = b"name,email\nGood,g@x.test\n".to_vec();
    bytes.extend_from_slice(b"Bad \xff name,b@x.test\n");
    let r = admin
        .post("/api/data/Customer/import")
        .header("content-type", "text/csv")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let report = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(report["errors"][0]["row"], 3, "{report}");
    assert_eq!(report["errors"][0]["rule"], "csv");
    assert_eq!(
        (report["failedRows"].as_u64(), report["created"].as_u64()),
        (Some(1), Some(0))
    );
}
