//! Creating many records at once (imports, demo data): each record validated by the
//! records engine as a single create would be, then written in multi-row statements
//! inside the caller's transaction, numbers reserved for the whole batch at once.

use super::Records;
use crate::error::{AppError, AppResult};
use runtime::{Action, FieldError, Record, RuntimeError, UniqueKey};
use serde_json::{Map, Value};
use spec::ObjectDef;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A record of a batch that cannot be created: its place in the batch and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub at: usize,
    pub errors: Vec<FieldError>,
}

fn storage(e: runtime::StorageError) -> AppError {
    RuntimeError::Storage(format!("{e:?}")).into()
}

impl Records {
    /// Writes records that the engine has prepared (validated, with ids) in `tx`:
    /// numbers their numbered fields and claims their unique values. Returns the
    /// (record id, field) of each unique value another record (or an earlier one of
    /// the batch) already holds; the caller then rolls back.
    pub(crate) async fn insert_prepared(
        &self,
        tx: &mut store::Tx,
        def: &ObjectDef,
        object: &str,
        ready: &mut [Record],
    ) -> AppResult<Vec<(String, String)>> {
        if ready.is_empty() {
            return Ok(Vec::new());
        }
        for (name, f) in &def.fields {
            if let Some(numbering) = &f.auto_number {
                let first =
                    store::records::reserve_numbers_in(tx, object, name, ready.len() as u32)
                        .await
                        .map_err(storage)?;
                for (i, r) in ready.iter_mut().enumerate() {
                    r.data.insert(
                        name.clone(),
                        Value::String(numbering.format(first + i as i64)),
                    );
                }
            }
        }
        let engine = self.engine();
        let rows: Vec<(Record, Vec<UniqueKey>)> = ready
            .iter()
            .map(|r| (r.clone(), engine.unique_keys(def, r)))
            .collect();
        store::records::insert_many(tx, &rows)
            .await
            .map_err(storage)
    }

    /// Creates every record of `inputs` in one transaction, or none: each is checked
    /// as [`Records::create`] checks it (permission, validation, references that exist
    /// and the caller may read, unique values). Returns the new records' ids in order,
    /// or every refused record with its errors.
    pub async fn create_many(
        &self,
        object: &str,
        inputs: &[Map<String, Value>],
    ) -> AppResult<Result<Vec<String>, Vec<Refused>>> {
        self.require_live("bulk creation")?;
        let engine = self.engine();
        let def = engine.object(object)?;
        self.require(object, Action::Create)?;
        let mut ready = Vec::with_capacity(inputs.len());
        let mut refs = Vec::with_capacity(inputs.len());
        let mut refused = Vec::new();
        for (at, input) in inputs.iter().enumerate() {
            match engine.prepare_create(&self.actor, object, input) {
                Ok((record, r)) => {
                    ready.push(record);
                    refs.push(r);
                }
                Err(RuntimeError::Validation(errors)) => refused.push(Refused { at, errors }),
                Err(e) => return Err(e.into()),
            }
        }
        if !refused.is_empty() {
            return Ok(Err(refused));
        }
        // References, looked up once per target object for the whole batch.
        let mut wanted: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for (_, target, id) in refs.iter().flatten() {
            wanted.entry(target).or_default().insert(id.clone());
        }
        let mut found: BTreeSet<(String, String)> = BTreeSet::new();
        for (target, ids) in wanted {
            for id in self.titles(target, ids).await?.into_keys() {
                found.insert((target.to_owned(), id));
            }
        }
        for (at, r) in refs.iter().enumerate() {
            let errors: Vec<FieldError> = r
                .iter()
                .filter(|(_, target, id)| !found.contains(&(target.clone(), id.clone())))
                .map(|(field, target, id)| FieldError {
                    field: field.clone(),
                    rule: "reference".into(),
                    message: format!("there is no {target} with id '{id}' that you can see"),
                })
                .collect();
            if !errors.is_empty() {
                refused.push(Refused { at, errors });
            }
        }
        if !refused.is_empty() {
            return Ok(Err(refused));
        }
        let mut tx = self.db.begin().await?;
        // A referenced record deleted since the look-up fails the batch here.
        for (target, id) in &found {
            let exists = runtime::Write::Exists {
                object: target.clone(),
                id: id.clone(),
            };
            match store::records::write_in(&mut tx, exists).await {
                Ok(()) => {}
                // Deleted since the look-up: each record that points at it is refused
                // by the field that does, as a missing reference is above.
                Err(runtime::StorageError::Missing { object, id }) => {
                    let refused = refs
                        .iter()
                        .enumerate()
                        .filter_map(|(at, r)| {
                            let errors: Vec<FieldError> = r
                                .iter()
                                .filter(|(_, t, i)| *t == object && *i == id)
                                .map(|(field, _, _)| FieldError {
                                    field: field.clone(),
                                    rule: "reference".into(),
                                    message: format!(
                                        "the {object} with id '{id}' was deleted meanwhile"
                                    ),
                                })
                                .collect();
                            (!errors.is_empty()).then_some(Refused { at, errors })
                        })
                        .collect();
                    return Ok(Err(refused));
                }
                Err(e) => return Err(storage(e)),
            }
        }
        let conflicts = self
            .insert_prepared(&mut tx, def, object, &mut ready)
            .await?;
        if !conflicts.is_empty() {
            let at: HashMap<&str, usize> = ready
                .iter()
                .enumerate()
                .map(|(i, r)| (r.id.as_str(), i))
                .collect();
            let mut by_record: BTreeMap<usize, Vec<FieldError>> = BTreeMap::new();
            for (id, field) in conflicts {
                by_record
                    .entry(at.get(id.as_str()).copied().unwrap_or_default())
                    .or_default()
                    .push(FieldError {
                        rule: "unique".into(),
                        message: format!(
                            "another {object} record (or an earlier one) already has this {field}"
                        ),
                        field,
                    });
            }
            return Ok(Err(by_record
                .into_iter()
                .map(|(at, errors)| Refused { at, errors })
                .collect()));
        }
        tx.commit().await?;
        crate::telemetry::records_written(object, "create", ready.len());
        Ok(Ok(ready.into_iter().map(|r| r.id).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{App, Caller, Config};
    use serde_json::json;

    async fn app() -> (App, store::testing::TestDb, tempfile::TempDir) {
        let db = store::testing::fresh().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            database_url: Some(db.url.clone().into()),
            ..Config::default()
        };
        (App::open(config).await.unwrap(), db, dir)
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    async fn count(records: &Records, object: &str) -> u64 {
        let q = records.query(object, &[]).unwrap().0;
        records.list(object, &q).await.unwrap().total
    }

    #[tokio::test]
    async fn a_batch_is_created_whole_with_numbers_or_not_at_all() {
        let (app, _db, _dir) = app().await;
        let records = Records::open(&app, &Caller::system());
        let ids = records
            .create_many(
                "Customer",
                &[
                    obj(json!({"name": "A", "email": "a@x.test"})),
                    obj(json!({"name": "B"})),
                ],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ids.len(), 2);
        let orders: Vec<_> = ids
            .iter()
            .map(|c| obj(json!({"customer": c, "amount": "1.50", "currency": "CNY", "orderDate": "2026-11-30"})))
            .collect();
        let made = records
            .create_many("Order", &orders)
            .await
            .unwrap()
            .unwrap();
        let numbers: Vec<Value> = {
            let mut n = Vec::new();
            for id in &made {
                n.push(records.get("Order", id).await.unwrap().data["number"].clone());
            }
            n
        };
        assert_eq!(numbers, [json!("SO-000001"), json!("SO-000002")]);

        // One bad record refuses the batch: validation, a missing reference, a
        // unique value taken by a stored record and one taken earlier in the batch.
        let refused = records
            .create_many(
                "Customer",
                &[obj(json!({"name": "C"})), obj(json!({"email": "nope"}))],
            )
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].at, 1);
        let rules: Vec<&str> = refused[0].errors.iter().map(|e| e.rule.as_str()).collect();
        assert!(
            rules.contains(&"required") && rules.contains(&"format"),
            "{rules:?}"
        );
        let refused = records
            .create_many(
                "Order",
                &[obj(json!({"customer": "no-such-id", "amount": "1", "currency": "CNY", "orderDate": "2026-11-30"}))],
            )
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(refused[0].errors[0].rule, "reference");
        let refused = records
            .create_many(
                "Customer",
                &[
                    obj(json!({"name": "D", "email": "d@x.test"})),
                    obj(json!({"name": "E", "email": "A@X.test"})),
                    obj(json!({"name": "F", "email": "d@x.test"})),
                ],
            )
            .await
            .unwrap()
            .unwrap_err();
        let failed: Vec<usize> = refused.iter().map(|r| r.at).collect();
        assert_eq!(failed, [1, 2]);
        assert!(refused.iter().all(|r| r.errors[0].rule == "unique"));
        assert_eq!(count(&records, "Customer").await, 2, "nothing half-written");
        assert_eq!(count(&records, "Order").await, 2);
    }

    #[tokio::test]
    async fn a_batch_needs_the_callers_permission() {
        let (app, _db, _dir) = app().await;
        let mut finance = Caller::system();
        finance.roles.clear();
        finance.business_roles = vec!["finance".into()];
        let records = Records::open(&app, &finance);
        let e = records
            .create_many("Customer", &[obj(json!({"name": "A"}))])
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden { .. }), "{e:?}");
    }
}
