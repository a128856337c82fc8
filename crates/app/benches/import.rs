//! CSV import and export at volume (docs/data.md, "CSV"): imports 100,000 customers
//! (unique e-mails, enum values by label, exact decimals), then 100,000 orders whose
//! customer is given by title, then exports the orders — on SQLite, or on PostgreSQL
//! with TEST_DATABASE_URL set. Prints rows per second and the process's peak memory
//! after each step, so a growth with the file size would show. `IMPORT_ROWS` changes
//! the size. Run: `cargo bench -p app --bench import`.

use app::records::Records;
use app::{App, Caller, Config};
use std::io::Write;
use std::time::Instant;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn write_csv(path: &std::path::Path, header: &str, rows: usize, row: impl Fn(usize) -> String) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "{header}").unwrap();
    for i in 0..rows {
        writeln!(f, "{}", row(i)).unwrap();
    }
}

async fn import(records: &Records, object: &str, path: &std::path::Path, rows: usize) {
    let size = std::fs::metadata(path).unwrap().len() as f64 / 1024.0 / 1024.0;
    let file = tokio::fs::File::open(path).await.unwrap();
    let t = Instant::now();
    let report = records.import_csv(object, file, false).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(report.created as usize, rows, "{:?}", report.errors);
    println!(
        "import {rows:>7} {object:<9} ({size:5.1} MB): {secs:6.2} s  {:>8.0} rows/s  peak RSS {:6.1} MB",
        rows as f64 / secs,
        peak_rss_mb()
    );
}

fn main() {
    let rows: usize = std::env::var("IMPORT_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = store::testing::fresh().await.unwrap();
        let backend = if db.url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            database_url: Some(db.url.clone().into()),
            ..Config::default()
        };
        let app = App::open(config).await.unwrap();
        let records = Records::open(&app, &Caller::system());
        println!("{backend}, peak RSS at start {:.1} MB", peak_rss_mb());
        let tiers = ["Bronze", "silver", "金牌"];
        let small = dir.path().join("customers-small.csv");
        write_csv(&small, "name,email,tier,creditLimit,country", rows / 10, |i| {
            format!("Warm-up {i},w{i}@bench.test,{},1500.5,CN", tiers[i % 3])
        });
        import(&records, "Customer", &small, rows / 10).await;
        let customers = dir.path().join("customers.csv");
        write_csv(&customers, "name,email,tier,creditLimit,country", rows, |i| {
            format!("Customer {i},c{i}@bench.test,{},1500.5,CN", tiers[i % 3])
        });
        import(&records, "Customer", &customers, rows).await;
        let orders = dir.path().join("orders.csv");
        write_csv(&orders, "customer.title,amount,currency,orderDate", rows, |i| {
            format!("Customer {},{}.25,USD,2026-11-{:02}", i % 1000, i % 900 + 1, i % 28 + 1)
        });
        import(&records, "Order", &orders, rows).await;

        let q = records.query("Order", &[]).unwrap().0;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
        let t = Instant::now();
        let export = tokio::spawn(async move { records.export_csv("Order", q, tx).await });
        let mut bytes = 0usize;
        while let Some(chunk) = rx.recv().await {
            bytes += chunk.len();
        }
        export.await.unwrap().unwrap();
        let secs = t.elapsed().as_secs_f64();
        println!(
            "export {rows:>7} Order     ({:5.1} MB): {secs:6.2} s  {:>8.0} rows/s  peak RSS {:6.1} MB",
            bytes as f64 / 1024.0 / 1024.0,
            rows as f64 / secs,
            peak_rss_mb()
        );
        drop(app);
        drop(db);
    });
}
