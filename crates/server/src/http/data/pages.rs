//! The CRM section: list, detail and form pages generated from the live spec's pages.

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::http::routing::Routes;
use crate::state::AppState;
use crate::views::{Page, PageResult, Refusal};
use access::Access;
use app::AppError;
use app::records::Records;
use axum::extract::{Path, RawQuery, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect};
use minijinja::context;
use minijinja::value::Serde;
use serde_json::{Map, Value, json};
use spec::{PageDef, Spec, localized};
use std::collections::BTreeMap;

pub fn routes() -> Routes {
    let a = Access::Authenticated;
    Routes::default()
        .page(Method::GET, "/crm/{page}", a, list)
        .page(Method::GET, "/crm/o/{object}/new", a, new_form)
        .page(Method::GET, "/crm/o/{object}/import", a, import_page)
        .page(Method::POST, "/crm/o/{object}", a, create)
        .page(Method::GET, "/crm/o/{object}/{id}", a, detail)
        .page(Method::GET, "/crm/o/{object}/{id}/edit", a, edit_form)
        .page(Method::POST, "/crm/o/{object}/{id}", a, update)
        .page(
            Method::POST,
            "/crm/o/{object}/{id}/transitions/{name}",
            a,
            transition,
        )
        .page(Method::POST, "/crm/o/{object}/{id}/delete", a, delete)
        .merge(super::preview_pages::routes())
}

/// Where CRM pages work: on the live spec and production data (`/crm`), or inside a
/// live preview (`/preview/{token}`), whose records write to its sandbox.
pub(super) struct Scope {
    pub records: Records,
    /// The pages' prefix.
    pub base: String,
    /// The data API's prefix, for pickers.
    pub api: String,
    pub preview: Option<std::sync::Arc<app::preview::Session>>,
}

impl Scope {
    fn live(state: &AppState, user: &CurrentUser) -> Scope {
        Scope {
            records: Records::open(&state.app, user),
            base: "/crm".into(),
            api: "/api/data".into(),
            preview: None,
        }
    }

    /// A page of this scope, with what every CRM page shows of it.
    fn render(
        &self,
        page: &Page,
        template: &str,
        ctx: minijinja::Value,
    ) -> axum::response::Response {
        let banner = self.preview.as_ref().map(|s| {
            context! { module => s.module_name.clone(), module_id => s.module_id.clone(), version => s.version,
                       expires_at => app::time::rfc3339(s.expires_at) }
        });
        page.render(
            template,
            context! { base => self.base.clone(), api => self.api.clone(), preview => banner, ..ctx },
        )
    }
}

/// The first page of a kind for an object.
fn page_of<'a>(spec: &'a Spec, object: &str, kind: &str) -> Option<(&'a String, &'a PageDef)> {
    spec.pages
        .iter()
        .find(|(_, p)| p.object() == object && p.kind() == kind)
}

/// Field names of a sectioned page, or every field of the object, with section
/// labels in the page's language.
fn sections(spec: &Spec, object: &str, kind: &str, lang: &str) -> Vec<Value> {
    match page_of(spec, object, kind) {
        Some((_, PageDef::Form(p) | PageDef::Detail(p))) => p
            .sections
            .iter()
            .map(|s| {
                let label = s.label.as_deref().unwrap_or_default();
                json!({ "label": localized(label, &s.labels, lang), "fields": s.fields })
            })
            .collect(),
        _ => {
            let fields: Vec<&String> = spec
                .objects
                .get(object)
                .map(|o| o.fields.keys().collect())
                .unwrap_or_default();
            vec![json!({ "label": "", "fields": fields })]
        }
    }
}

/// An object's label in the page's language.
fn object_label(spec: &Spec, object: &str, lang: &str) -> String {
    spec.objects
        .get(object)
        .map(|d| localized(&d.label, &d.labels, lang).to_owned())
        .unwrap_or_else(|| object.to_owned())
}

/// Labels and input kinds of an object's fields (and its state and system fields),
/// in the page's language, for templates. Enum and state values carry their labels.
fn field_info(spec: &Spec, object: &str, page: &Page) -> BTreeMap<String, Value> {
    let lang = page.lang.code();
    let mut m = BTreeMap::new();
    for sys in spec::names::SYSTEM_FIELDS {
        m.insert(
            sys.to_owned(),
            json!({ "label": page.t(&format!("crm.sys.{sys}")), "type": "system" }),
        );
    }
    if let Some(def) = spec.objects.get(object) {
        for (name, f) in &def.fields {
            let values: BTreeMap<&String, &str> = f
                .values
                .iter()
                .flatten()
                .map(|v| {
                    let l = f.value_labels.get(v).map(|l| localized(v, l, lang));
                    (v, l.unwrap_or(v))
                })
                .collect();
            let label = localized(f.label.as_deref().unwrap_or(name), &f.labels, lang);
            m.insert(
                name.clone(),
                json!({ "label": label, "type": f.ty.as_str(), "values": f.values, "labels": values,
                         "object": f.object, "required": f.required && f.auto_number.is_none(),
                         "auto": f.auto_number.is_some() }),
            );
        }
        if let Some(flow) = &def.state_flow {
            // States filter with a select of their labels.
            let labels: BTreeMap<&String, &str> = flow
                .states
                .iter()
                .map(|(k, st)| {
                    (
                        k,
                        localized(st.label.as_deref().unwrap_or(k), &st.labels, lang),
                    )
                })
                .collect();
            m.insert(
                flow.field.clone(),
                json!({ "label": page.t("crm.state"), "type": "state",
                         "values": flow.states.keys().collect::<Vec<_>>(), "labels": labels }),
            );
        }
    }
    m
}

/// The titles of the records that reference values in `values` point to (a form's
/// or a filter's current choice), so pickers show names, not ids.
async fn chosen_titles(
    records: &Records,
    object: &str,
    values: &Value,
) -> Result<BTreeMap<String, String>, AppError> {
    let Some(def) = records.spec().objects.get(object) else {
        return Ok(BTreeMap::new());
    };
    let mut out = BTreeMap::new();
    for (name, f) in &def.fields {
        if let (Some(target), Some(Value::String(id))) = (&f.object, values.get(name))
            && f.ty == spec::FieldType::Reference
        {
            out.extend(records.titles(target, [id.clone()].into()).await?);
        }
    }
    Ok(out)
}

async fn list(
    State(state): State<AppState>,
    page: Page,
    user: CurrentUser,
    Path(page_id): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult {
    list_in(&Scope::live(&state, &user), &page, page_id, q).await
}

pub(super) async fn list_in(
    scope: &Scope,
    page: &Page,
    page_id: String,
    q: Option<String>,
) -> PageResult {
    let records = &scope.records;
    let Some(PageDef::List(lp)) = records.spec().pages.get(&page_id) else {
        return Err(ApiError::not_found(format!("list page '{page_id}'")).into());
    };
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(q.as_deref().unwrap_or("")).unwrap_or_default();
    pairs.retain(|(_, v)| !v.is_empty());
    if !pairs.iter().any(|(k, _)| k == "sort")
        && let Some(s) = &lp.sort
    {
        let dir = if s.direction == spec::SortDirection::Desc {
            "-"
        } else {
            ""
        };
        pairs.push(("sort".into(), format!("{dir}{}", s.field)));
    }
    let (query, n, per) = records.query(&lp.object, &pairs)?;
    let p = records.list(&lp.object, &query).await?;
    let rows: Vec<Value> = p.items.iter().map(|r| records.view(r)).collect();
    let titles = records.reference_titles(&lp.object, &p.items).await?;
    let pages = p.total.div_ceil(per).max(1);
    let filters: BTreeMap<&str, &str> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let keep: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "page").cloned().collect();
    let lang = page.lang.code();
    let title = match &lp.label {
        Some(l) => localized(l, &lp.labels, lang).to_owned(),
        None => object_label(records.spec(), &lp.object, lang),
    };
    let mut titles = titles;
    titles.extend(chosen_titles(records, &lp.object, &json!(filters)).await?);
    Ok(scope.render(
        page,
        "crm/list.html",
        context! {
            title => title, object => lp.object.clone(), object_label => object_label(records.spec(), &lp.object, lang), page_id => page_id,
            columns => lp.columns.clone(), filters => lp.filters.clone(), rows => Serde(&rows), fields => Serde(field_info(records.spec(), &lp.object, page)),
            values => Serde(&filters), total => p.total, page => n, pages => pages,
            query => serde_urlencoded::to_string(&keep).unwrap_or_default(), titles => Serde(&titles),
        },
    ))
}

async fn render_form(
    scope: &Scope,
    page: &Page,
    object: &str,
    id: Option<&str>,
    values: Value,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> PageResult {
    let records = &scope.records;
    let spec = records.spec();
    if !spec.objects.contains_key(object) {
        return Err(ApiError::not_found(format!("object '{object}'")).into());
    }
    let lang = page.lang.code();
    let titles = chosen_titles(records, object, &values).await?;
    let mut resp = scope.render(
        page,
        "crm/form.html",
        context! {
            title => object_label(spec, object, lang), object => object, id => id, sections => Serde(sections(spec, object, "form", lang)),
            fields => Serde(field_info(spec, object, page)), values => Serde(&values), errors => Serde(&errors), titles => Serde(&titles),
        },
    );
    *resp.status_mut() = status;
    Ok(resp)
}

async fn new_form(
    State(state): State<AppState>,
    page: Page,
    user: CurrentUser,
    Path(object): Path<String>,
) -> PageResult {
    new_form_in(&Scope::live(&state, &user), &page, object).await
}

pub(super) async fn new_form_in(scope: &Scope, page: &Page, object: String) -> PageResult {
    let records = &scope.records;
    // A new record's form starts from the fields' defaults, as the engine would.
    let defaults: Map<String, Value> = records
        .spec()
        .objects
        .get(&object)
        .map(|d| {
            d.fields
                .iter()
                .filter_map(|(n, f)| Some((n.clone(), f.default.clone()?)))
                .collect()
        })
        .unwrap_or_default();
    render_form(
        scope,
        page,
        &object,
        None,
        Value::Object(defaults),
        BTreeMap::new(),
        StatusCode::OK,
    )
    .await
}

/// Form fields as the engine's input: empty strings are "no value"; numbers and
/// booleans are read as their field's type.
fn input_of(spec: &Spec, object: &str, body: &[u8]) -> (Map<String, Value>, Option<i64>) {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let def = spec.objects.get(object);
    let mut out = Map::new();
    let mut version = None;
    for (k, v) in pairs {
        if k == "_csrf" {
            continue;
        }
        if k == "_version" {
            version = v.parse().ok();
            continue;
        }
        let ty = def.and_then(|d| d.fields.get(&k)).map(|f| f.ty);
        let value = match (ty, v.trim()) {
            (_, "") => Value::Null,
            (Some(spec::FieldType::Integer), s) => s
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or(Value::String(s.to_owned())),
            (Some(spec::FieldType::Boolean), s) => Value::Bool(s == "true" || s == "on"),
            (Some(spec::FieldType::Json), s) => {
                serde_json::from_str(s).unwrap_or(Value::String(s.to_owned()))
            }
            (_, s) => Value::String(s.to_owned()),
        };
        out.insert(k, value);
    }
    (out, version)
}

async fn create(
    State(state): State<AppState>,
    page: Page,
    user: CurrentUser,
    Path(object): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    create_in(&Scope::live(&state, &user), &page, object, &body).await
}

pub(super) async fn create_in(
    scope: &Scope,
    page: &Page,
    object: String,
    body: &[u8],
) -> PageResult {
    let records = &scope.records;
    let (input, _) = input_of(records.spec(), &object, body);
    match records.create(&object, &input).await {
        Ok(r) => Ok(Redirect::to(&format!("{}/o/{object}/{}", scope.base, r.id)).into_response()),
        Err(err @ AppError::Invalid(_)) => {
            let r = Refusal::of(&err, &[]);
            render_form(
                scope,
                page,
                &object,
                None,
                Value::Object(input),
                r.errors,
                r.status,
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}

async fn detail(
    State(state): State<AppState>,
    page: Page,
    user: CurrentUser,
    Path((object, id)): Path<(String, String)>,
) -> PageResult {
    detail_in(&Scope::live(&state, &user), &page, object, id).await
}

pub(super) async fn detail_in(
    scope: &Scope,
    page: &Page,
    object: String,
    id: String,
) -> PageResult {
    let records = &scope.records;
    let r = records.get(&object, &id).await?;
    let spec = records.spec();
    let Some(def) = spec.objects.get(&object) else {
        return Err(ApiError::not_found(format!("object '{object}'")).into());
    };
    let state_now = r.state(def).map(str::to_owned);
    let transitions: Vec<Value> = def
        .state_flow
        .iter()
        .flat_map(|f| f.transitions.iter())
        .filter(|(name, t)| state_now.as_deref().is_some_and(|s| t.from.iter().any(|x| x == s)) && records.allowed(&object, runtime::Action::Transition(name)))
        .map(|(name, t)| json!({ "name": name, "label": localized(t.label.as_deref().unwrap_or(name), &t.labels, page.lang.code()) }))
        .collect();
    // Records of other objects that reference this one.
    let mut related = Vec::new();
    for (other, odef) in &spec.objects {
        for (field, f) in &odef.fields {
            if f.object.as_deref() == Some(object.as_str()) && f.ty == spec::FieldType::Reference {
                let Ok(filter) = records.filter(other, field, runtime::FilterOp::Eq, json!(id))
                else {
                    continue;
                };
                let q = runtime::ListQuery {
                    filters: vec![filter],
                    sort: vec![],
                    offset: 0,
                    limit: 10,
                };
                if let Ok(p) = records.list(other, &q).await
                    && p.total > 0
                {
                    let items: Vec<Value> = p.items.iter().map(|x| records.view(x)).collect();
                    let titles: Vec<String> =
                        p.items.iter().map(|x| records.title_of(other, x)).collect();
                    related.push(json!({ "object": other, "label": localized(&odef.label, &odef.labels, page.lang.code()),
                        "field": field, "total": p.total, "items": items, "titles": titles }));
                }
            }
        }
    }
    let titles = records
        .reference_titles(&object, std::slice::from_ref(&r))
        .await?;
    // In a preview, what the module's rules would refuse of this record.
    let impact = if scope.preview.is_some() {
        records.impact(&r)
    } else {
        Vec::new()
    };
    Ok(scope.render(
        page,
        "crm/detail.html",
        context! {
            impact => Serde(impact),
            title => records.title_of(&object, &r), kind => localized(&def.label, &def.labels, page.lang.code()), titles => Serde(&titles),
            object => object.clone(), record => Serde(records.view(&r)), version => r.version,
            sections => Serde(sections(spec, &object, "detail", page.lang.code())), fields => Serde(field_info(spec, &object, page)),
            transitions => Serde(transitions), related => Serde(related),
        },
    ))
}

async fn edit_form(
    State(state): State<AppState>,
    page: Page,
    user: CurrentUser,
    Path((object, id)): Path<(String, String)>,
) -> PageResult {
    edit_form_in(&Scope::live(&state, &user), &page, object, id).await
}

pub(super) async fn edit_form_in(
    scope: &Scope,
    page: &Page,
    object: String,
    id: String,
) -> PageResult {
    let r = scope.records.get(&object, &id).await?;
    let mut values = scope.records.view(&r);
    values["_version"] = json!(r.version);
    render_form(
        scope,
        page,
        &object,
        Some(&id),
        values,
        BTreeMap::new(),
        StatusCode::OK,
    )
    .await
}

async fn update(
    State(state): State<AppState>,
    page: Page,
    user: CurrentUser,
    Path((object, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    update_in(&Scope::live(&state, &user), &page, object, id, &body).await
}

pub(super) async fn update_in(
    scope: &Scope,
    page: &Page,
    object: String,
    id: String,
    body: &[u8],
) -> PageResult {
    let records = &scope.records;
    let (input, version) = input_of(records.spec(), &object, body);
    match records.update(&object, &id, &input, version).await {
        Ok(_) => Ok(Redirect::to(&format!("{}/o/{object}/{id}", scope.base)).into_response()),
        Err(err @ AppError::Invalid(_)) => {
            let r = Refusal::of(&err, &[]);
            let mut values = Value::Object(input);
            values["_version"] = json!(version);
            render_form(scope, page, &object, Some(&id), values, r.errors, r.status).await
        }
        Err(err) => Err(err.into()),
    }
}

async fn transition(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((object, id, name)): Path<(String, String, String)>,
) -> PageResult {
    transition_in(&Scope::live(&state, &user), object, id, name).await
}

pub(super) async fn transition_in(
    scope: &Scope,
    object: String,
    id: String,
    name: String,
) -> PageResult {
    scope.records.transition(&object, &id, &name, None).await?;
    Ok(Redirect::to(&format!("{}/o/{object}/{id}", scope.base)).into_response())
}

async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((object, id)): Path<(String, String)>,
) -> PageResult {
    delete_in(&Scope::live(&state, &user), object, id).await
}

pub(super) async fn delete_in(scope: &Scope, object: String, id: String) -> PageResult {
    scope.records.delete(&object, &id, None).await?;
    let target = page_of(scope.records.spec(), &object, "list")
        .map(|(p, _)| format!("{}/{p}", scope.base))
        .unwrap_or_else(|| "/".into());
    Ok(Redirect::to(&target).into_response())
}

/// The first list page a menu of `spec` opens, for a preview's start.
pub(super) fn first_list(spec: &Spec) -> Option<String> {
    spec.menus
        .iter()
        .flat_map(|g| &g.children)
        .filter_map(|i| i.page.clone())
        .find(|p| matches!(spec.pages.get(p), Some(PageDef::List(_))))
}

/// The CSV import page: the file goes to `POST /api/data/{object}/import` from the
/// browser, first as a dry run by default, and the report is shown row by row.
async fn import_page(
    State(state): State<AppState>,
    page: Page,
    user: CurrentUser,
    Path(object): Path<String>,
) -> PageResult {
    let scope = Scope::live(&state, &user);
    let spec = scope.records.spec();
    let Some(def) = spec.objects.get(&object) else {
        return Err(ApiError::not_found(format!("object '{object}'")).into());
    };
    let columns: Vec<&str> = def
        .fields
        .iter()
        .filter(|(_, f)| f.auto_number.is_none())
        .map(|(n, _)| n.as_str())
        .collect();
    let words: BTreeMap<&str, String> = [
        "failed", "checked", "done", "rows", "row", "column", "rule", "message",
    ]
    .into_iter()
    .map(|k| (k, page.t(&format!("crm.import.{k}"))))
    .collect();
    Ok(scope.render(
        &page,
        "crm/import.html",
        context! {
            title => object_label(spec, &object, page.lang.code()), object => object.clone(),
            columns => columns.join(", "), words => Serde(words),
            list_page => page_of(spec, &object, "list").map(|(p, _)| p.clone()),
        },
    ))
}
