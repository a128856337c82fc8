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
use spec::{PageDef, Spec};
use std::collections::BTreeMap;

pub fn routes() -> Routes {
    let a = Access::Authenticated;
    Routes::default()
        .page(Method::GET, "/crm/{page}", a, list)
        .page(Method::GET, "/crm/o/{object}/new", a, new_form)
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
}

/// The first page of a kind for an object.
fn page_of<'a>(spec: &'a Spec, object: &str, kind: &str) -> Option<(&'a String, &'a PageDef)> {
    spec.pages
        .iter()
        .find(|(_, p)| p.object() == object && p.kind() == kind)
}

/// Field names of a sectioned page, or every field of the object.
fn sections(spec: &Spec, object: &str, kind: &str) -> Vec<Value> {
    match page_of(spec, object, kind) {
        Some((_, PageDef::Form(p) | PageDef::Detail(p))) => p
            .sections
            .iter()
            .map(|s| json!({ "label": s.label.clone().unwrap_or_default(), "fields": s.fields }))
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

/// Labels and input kinds of an object's fields, for templates.
fn field_info(spec: &Spec, object: &str) -> BTreeMap<String, Value> {
    let mut m = BTreeMap::new();
    if let Some(def) = spec.objects.get(object) {
        for (name, f) in &def.fields {
            m.insert(
                name.clone(),
                json!({ "label": f.label.clone().unwrap_or_else(|| name.clone()), "type": f.ty.as_str(),
                         "values": f.values, "object": f.object, "required": f.required }),
            );
        }
        if let Some(flow) = &def.state_flow {
            // States filter with a select of their labels.
            let labels: BTreeMap<&String, String> = flow
                .states
                .iter()
                .map(|(k, st)| (k, st.label.clone().unwrap_or_else(|| k.clone())))
                .collect();
            m.insert(
                flow.field.clone(),
                json!({ "label": flow.field, "type": "state",
                         "values": flow.states.keys().collect::<Vec<_>>(), "labels": labels }),
            );
        }
    }
    m
}

async fn list(
    State(state): State<AppState>,
    page: Page,
    user: CurrentUser,
    Path(page_id): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult {
    let records = Records::open(&state.app, &user);
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
    Ok(page.render(
        "crm/list.html",
        context! {
            title => lp.label.clone().unwrap_or_else(|| lp.object.clone()), object => lp.object.clone(), page_id => page_id,
            columns => lp.columns.clone(), filters => lp.filters.clone(), rows => Serde(&rows), fields => Serde(field_info(records.spec(), &lp.object)),
            values => Serde(&filters), total => p.total, page => n, pages => pages,
            query => serde_urlencoded::to_string(&keep).unwrap_or_default(), titles => Serde(&titles),
        },
    ))
}

async fn render_form(
    state: &AppState,
    page: &Page,
    object: &str,
    id: Option<&str>,
    values: Value,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> PageResult {
    let live = state.app.live.get();
    let def = live
        .spec
        .objects
        .get(object)
        .ok_or_else(|| ApiError::not_found(format!("object '{object}'")))?;
    let mut resp = page.render(
        "crm/form.html",
        context! {
            title => def.label.clone(), object => object, id => id, sections => Serde(sections(&live.spec, object, "form")),
            fields => Serde(field_info(&live.spec, object)), values => Serde(&values), errors => Serde(&errors),
        },
    );
    *resp.status_mut() = status;
    Ok(resp)
}

async fn new_form(
    State(state): State<AppState>,
    page: Page,
    Path(object): Path<String>,
) -> PageResult {
    render_form(
        &state,
        &page,
        &object,
        None,
        json!({}),
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
    let records = Records::open(&state.app, &user);
    let (input, _) = input_of(records.spec(), &object, &body);
    match records.create(&object, &input).await {
        Ok(r) => Ok(Redirect::to(&format!("/crm/o/{object}/{}", r.id)).into_response()),
        Err(err @ AppError::Invalid(_)) => {
            let r = Refusal::of(&err, &[]);
            render_form(
                &state,
                &page,
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
    let records = Records::open(&state.app, &user);
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
        .map(|(name, t)| json!({ "name": name, "label": t.label.clone().unwrap_or_else(|| name.clone()) }))
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
                    related.push(json!({ "object": other, "label": odef.label, "field": field, "total": p.total, "items": items }));
                }
            }
        }
    }
    let titles = records
        .reference_titles(&object, std::slice::from_ref(&r))
        .await?;
    Ok(page.render(
        "crm/detail.html",
        context! {
            title => records.title_of(&object, &r), kind => def.label.clone(), titles => Serde(&titles),
            object => object.clone(), record => Serde(records.view(&r)), version => r.version,
            sections => Serde(sections(spec, &object, "detail")), fields => Serde(field_info(spec, &object)),
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
    let records = Records::open(&state.app, &user);
    let r = records.get(&object, &id).await?;
    let mut values = records.view(&r);
    values["_version"] = json!(r.version);
    render_form(
        &state,
        &page,
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
    let records = Records::open(&state.app, &user);
    let (input, version) = input_of(records.spec(), &object, &body);
    match records.update(&object, &id, &input, version).await {
        Ok(_) => Ok(Redirect::to(&format!("/crm/o/{object}/{id}")).into_response()),
        Err(err @ AppError::Invalid(_)) => {
            let r = Refusal::of(&err, &[]);
            let mut values = Value::Object(input);
            values["_version"] = json!(version);
            render_form(
                &state,
                &page,
                &object,
                Some(&id),
                values,
                r.errors,
                r.status,
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}

async fn transition(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((object, id, name)): Path<(String, String, String)>,
) -> PageResult {
    Records::open(&state.app, &user)
        .transition(&object, &id, &name, None)
        .await?;
    Ok(Redirect::to(&format!("/crm/o/{object}/{id}")).into_response())
}

async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((object, id)): Path<(String, String)>,
) -> PageResult {
    let records = Records::open(&state.app, &user);
    records.delete(&object, &id, None).await?;
    let target = page_of(records.spec(), &object, "list")
        .map(|(p, _)| format!("/crm/{p}"))
        .unwrap_or_else(|| "/".into());
    Ok(Redirect::to(&target).into_response())
}
