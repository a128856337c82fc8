//! Every API call `modgate remote` makes, declared once: method, path template, the
//! status that means done, the body properties it may send and the response
//! properties it reads. The client only reaches the server through these, and a test
//! holds each one against the published OpenAPI document (`docs/openapi.json`, which
//! the server's tests keep equal to its routes), so the command line cannot drift
//! from the API it drives.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
        }
    }
}

#[derive(Debug)]
pub struct Endpoint {
    pub verb: Verb,
    /// The OpenAPI path template, e.g. `/api/modules/{id}/submit`.
    pub path: &'static str,
    /// The status a successful call answers with.
    pub done: u16,
    /// Properties of the JSON body this command may send.
    pub sends: &'static [&'static str],
    /// Query parameters it may send.
    pub query: &'static [&'static str],
    /// Top-level properties of the answer it reads.
    pub reads: &'static [&'static str],
    /// Properties it reads of each element of the answer's `items`.
    pub items: &'static [&'static str],
}

impl Endpoint {
    /// A JSON body from the given properties, leaving out absent ones. Sending a
    /// property the endpoint does not declare is a programming error.
    pub fn body(&self, props: &[(&str, Option<Value>)]) -> Value {
        let mut out = Map::new();
        for (k, v) in props {
            debug_assert!(self.sends.contains(k), "{} does not send '{k}'", self.path);
            if let Some(v) = v {
                out.insert((*k).to_owned(), v.clone());
            }
        }
        Value::Object(out)
    }

    /// A property of this endpoint's answer (`Null` when absent).
    pub fn read<'a>(&self, answer: &'a Value, key: &str) -> &'a Value {
        debug_assert!(
            self.reads.contains(&key),
            "{} does not read '{key}'",
            self.path
        );
        answer.get(key).unwrap_or(&Value::Null)
    }

    /// A property of one element of the answer's `items`.
    pub fn item<'a>(&self, item: &'a Value, key: &str) -> &'a Value {
        debug_assert!(
            self.items.contains(&key),
            "{} does not read items' '{key}'",
            self.path
        );
        item.get(key).unwrap_or(&Value::Null)
    }
}

const fn get(path: &'static str, reads: &'static [&'static str]) -> Endpoint {
    Endpoint {
        verb: Verb::Get,
        path,
        done: 200,
        sends: &[],
        query: &[],
        reads,
        items: &[],
    }
}

const fn post(
    path: &'static str,
    done: u16,
    sends: &'static [&'static str],
    reads: &'static [&'static str],
) -> Endpoint {
    Endpoint {
        verb: Verb::Post,
        path,
        done,
        sends,
        query: &[],
        reads,
        items: &[],
    }
}

const MODULE: &[&str] = &[
    "id",
    "name",
    "slug",
    "status",
    "currentVersion",
    "publication",
    "owner",
    "modelName",
    "description",
    "updatedAt",
];
const VERSION: &[&str] = &[
    "number",
    "level",
    "valid",
    "submittable",
    "needsConfirmation",
    "author",
    "source",
    "message",
    "createdAt",
    "report",
];
const PUBLISHED: &[&str] = &["publication", "specVersion"];
const REVIEW: &[&str] = &[
    "id",
    "version",
    "status",
    "submittedBy",
    "decidedBy",
    "reason",
    "reviewers",
];
const RUN: &[&str] = &[
    "id",
    "version",
    "status",
    "passed",
    "failed",
    "moduleCoverage",
    "ready",
];

pub const LIST_MODULES: Endpoint = Endpoint {
    items: MODULE,
    ..get("/api/modules", &["items"])
};
pub const CREATE_MODULE: Endpoint = post(
    "/api/modules",
    201,
    &["name", "description", "modelId"],
    MODULE,
);
pub const GET_MODULE: Endpoint = get("/api/modules/{id}", MODULE);
pub const LIST_VERSIONS: Endpoint = Endpoint {
    items: VERSION,
    ..get("/api/modules/{id}/versions", &["items"])
};
pub const GENERATE: Endpoint = post(
    "/api/modules/{id}/generate",
    201,
    &["prompt", "modelId"],
    &[
        "version",
        "attempts",
        "inputTokens",
        "outputTokens",
        "answeredBy",
        "fallbacks",
        "cost",
    ],
);
pub const SAVE_VERSION: Endpoint = post(
    "/api/modules/{id}/versions",
    201,
    &["patch", "message", "baseVersion", "confirmL2"],
    VERSION,
);
pub const START_RUN: Endpoint = post("/api/modules/{id}/test-runs", 201, &["version"], RUN);
pub const RUN_REPORT: Endpoint = Endpoint {
    query: &["format"],
    ..get("/api/test-runs/{run}", &[])
};
pub const READINESS: Endpoint = get(
    "/api/modules/{id}/versions/{n}/readiness",
    &["ready", "reasons", "unmet"],
);
pub const SUBMIT: Endpoint = post(
    "/api/modules/{id}/submit",
    201,
    &["version", "reviewers", "note"],
    REVIEW,
);
pub const MODULE_REVIEWS: Endpoint = Endpoint {
    items: REVIEW,
    ..get("/api/modules/{id}/reviews", &["items"])
};
/// Reviews anyone in the lifecycle may read: how reviewers and publishers, who may
/// not list modules, find a module by name.
pub const LIST_REVIEWS: Endpoint = Endpoint {
    items: &["moduleId", "moduleName"],
    ..get("/api/reviews", &["items"])
};
pub const PUBLICATIONS: Endpoint = Endpoint {
    items: &["moduleId", "moduleName"],
    ..get("/api/publications", &["items"])
};
pub const APPROVE: Endpoint = post("/api/reviews/{id}/approve", 200, &["note"], REVIEW);
pub const REJECT: Endpoint = post("/api/reviews/{id}/reject", 200, &["reason"], REVIEW);
pub const PUBLISH: Endpoint = post(
    "/api/modules/{id}/publish",
    200,
    &["version", "release"],
    PUBLISHED,
);
pub const UNPUBLISH: Endpoint = post("/api/modules/{id}/unpublish", 200, &[], PUBLISHED);
pub const ROLLBACK: Endpoint = post("/api/modules/{id}/rollback", 200, &["version"], PUBLISHED);
pub const EXPORT: Endpoint = Endpoint {
    query: &["version"],
    ..get("/api/modules/{id}/export", &[])
};
/// The body is the bundle itself, sent as it is.
pub const IMPORT: Endpoint = post(
    "/api/modules/import",
    201,
    &[],
    &["moduleId", "moduleName", "created", "version"],
);
pub const SPEC: Endpoint = get("/api/spec", &["version", "spec"]);

/// Every endpoint above, for the check against the OpenAPI document.
#[cfg(test)]
pub const ALL: &[&Endpoint] = &[
    &LIST_MODULES,
    &CREATE_MODULE,
    &GET_MODULE,
    &LIST_VERSIONS,
    &GENERATE,
    &SAVE_VERSION,
    &START_RUN,
    &RUN_REPORT,
    &READINESS,
    &SUBMIT,
    &MODULE_REVIEWS,
    &LIST_REVIEWS,
    &PUBLICATIONS,
    &APPROVE,
    &REJECT,
    &PUBLISH,
    &UNPUBLISH,
    &ROLLBACK,
    &EXPORT,
    &IMPORT,
    &SPEC,
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The API's published contract (the server's tests keep it equal to what its
    /// routes document): the command line is a client of that, not of the server's
    /// code.
    fn document() -> Value {
        serde_json::from_str(include_str!("../../../../docs/openapi.json")).unwrap()
    }

    /// Every property a schema can have: through `$ref`, `allOf`, `oneOf` and `anyOf`.
    fn properties(doc: &Value, schema: &Value) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        if let Some(r) = schema["$ref"].as_str() {
            let name = r.trim_start_matches("#/components/schemas/");
            return properties(doc, &doc["components"]["schemas"][name]);
        }
        if let Some(p) = schema["properties"].as_object() {
            out.extend(p.keys().cloned());
        }
        for k in ["allOf", "oneOf", "anyOf"] {
            for s in schema[k].as_array().into_iter().flatten() {
                out.extend(properties(doc, s));
            }
        }
        out
    }

    /// The schema of `items` elements in a list answer.
    fn item_schema(doc: &Value, schema: &Value) -> Value {
        if let Some(r) = schema["$ref"].as_str() {
            let name = r.trim_start_matches("#/components/schemas/");
            return item_schema(doc, &doc["components"]["schemas"][name]);
        }
        schema["properties"]["items"]["items"].clone()
    }

    fn json_schema(content: &Value) -> &Value {
        &content["content"]["application/json"]["schema"]
    }

    #[test]
    fn every_call_of_the_command_line_is_in_the_openapi_document() {
        let doc = document();
        for e in ALL {
            let op = &doc["paths"][e.path][e.verb.as_str()];
            assert!(
                op.is_object(),
                "{} {} is not in the API",
                e.verb.as_str(),
                e.path
            );
            let answer = &op["responses"][e.done.to_string()];
            assert!(
                answer.is_object(),
                "{}: {} is not documented",
                e.path,
                e.done
            );
            let sent = properties(&doc, json_schema(&op["requestBody"]));
            for k in e.sends {
                assert!(
                    sent.contains(*k),
                    "{} takes no '{k}' (it takes {sent:?})",
                    e.path
                );
            }
            let params: BTreeSet<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str())
                .collect();
            for k in e.query {
                assert!(params.contains(k), "{} has no query '{k}'", e.path);
            }
            let read = properties(&doc, json_schema(answer));
            for k in e.reads {
                assert!(read.contains(*k), "{} answers no '{k}' ({read:?})", e.path);
            }
            let item = properties(&doc, &item_schema(&doc, json_schema(answer)));
            for k in e.items {
                assert!(
                    item.contains(*k),
                    "{} items have no '{k}' ({item:?})",
                    e.path
                );
            }
            let in_path = e.path.matches('{').count();
            let declared = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .count();
            assert_eq!(in_path, declared, "{}: path parameters", e.path);
        }
    }

    #[test]
    fn the_check_notices_a_call_the_api_does_not_have() {
        let doc = document();
        let bogus = post("/api/modules/{id}/submit", 201, &["versionNumber"], &[]);
        let op = &doc["paths"][bogus.path]["post"];
        let sent = properties(&doc, json_schema(&op["requestBody"]));
        assert!(sent.contains("version") && !sent.contains("versionNumber"));
        assert!(doc["paths"]["/api/modules/{id}/deploy"].is_null());
    }
}
