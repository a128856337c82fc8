//! The data API's hot path below HTTP (docs/performance.md): one record by id and a
//! filtered page of 20 with its total, as a business user whose permissions are
//! checked, served from the stored text — over 10,500 records on SQLite, or on
//! PostgreSQL with TEST_DATABASE_URL set. The parsed path (`get`, a `Record` tree
//! and its view) is measured beside it, so a regression in either shows.
//! Run: `cargo bench -p app --bench read`.

use app::records::Records;
use app::{App, Caller, Config};
use criterion::{Criterion, criterion_group, criterion_main};

fn reads(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (app, _db, _dir) = rt.block_on(async {
        let db = store::testing::fresh().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            database_url: Some(db.url.clone().into()),
            ..Config::default()
        };
        let app = App::open(config).await.unwrap();
        app::seed::demo(&app, 500, 20).await.unwrap();
        (app, db, dir)
    });
    let mut sales = Caller::system();
    sales.roles.clear();
    sales.id = "sales-bench".into();
    sales.business_roles = vec!["sales".into()];
    let records = Records::open(&app, &sales);
    // The first 500 ids of an object, to read at random.
    let ids = |object: &'static str| {
        let records = &records;
        async move {
            let q = records
                .query(object, &[("perPage".into(), "500".into())])
                .unwrap()
                .0;
            records
                .list(object, &q)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|r| r.id)
                .collect::<Vec<String>>()
        }
    };
    let (orders, customers) = rt.block_on(async { (ids("Order").await, ids("Customer").await) });
    let mut i = 0usize;
    c.bench_function("record by id (stored text)", |b| {
        b.to_async(&rt).iter(|| {
            i = (i + 7919) % orders.len();
            let id = &orders[i];
            let records = &records;
            async move { records.get_json("Order", id).await.unwrap() }
        })
    });
    c.bench_function("record by id (parsed and viewed)", |b| {
        b.to_async(&rt).iter(|| {
            i = (i + 7919) % orders.len();
            let id = &orders[i];
            let records = &records;
            async move { records.view(&records.get("Order", id).await.unwrap()) }
        })
    });
    c.bench_function("filtered page of 20 with total", |b| {
        b.to_async(&rt).iter(|| {
            i = (i + 7919) % customers.len();
            let q = records
                .query(
                    "Order",
                    &[
                        ("customer".into(), customers[i].clone()),
                        ("perPage".into(), "20".into()),
                    ],
                )
                .unwrap()
                .0;
            let records = &records;
            async move {
                let (items, total) = records.list_json("Order", &q).await.unwrap();
                assert_eq!((items.len(), total), (20, 20));
            }
        })
    });
}

criterion_group!(benches, reads);
criterion_main!(benches);
