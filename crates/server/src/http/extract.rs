//! Extractors that turn malformed input into the API's error shape.

use crate::error::ApiError;
use app::Origin;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, request::Parts};
use serde::de::DeserializeOwned;

/// `axum::Json` with rejections mapped: 400 malformed, 413 too large, 415 wrong
/// content type, 422 well-formed JSON of the wrong shape (naming the field). Every
/// body this API takes is a JSON object; serde would read a struct from an array
/// too, so anything but an object is refused as the wrong shape.
pub struct ApiJson<T>(pub T);

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

fn not_json() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as JSON with Content-Type: application/json",
    )
}

async fn body_of<S: Send + Sync>(req: Request, state: &S) -> Result<axum::body::Bytes, ApiError> {
    axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    "the request body is over the size limit",
                )
            } else {
                ApiError::bad_request(e.body_text())
            }
        })
}

fn object_of<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let axum::Json(v) = axum::Json::<T>::from_bytes(bytes).map_err(json_rejection)?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "invalid request body: expected a JSON object",
        ));
    }
    Ok(v)
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(&req) {
            return Err(not_json());
        }
        let bytes = body_of(req, state).await?;
        object_of(&bytes).map(ApiJson)
    }
}

/// An optional body: nothing sent (whatever the headers say) is `None`; anything
/// sent is read as [`ApiJson`] with its errors.
impl<S: Send + Sync, T: DeserializeOwned> axum::extract::OptionalFromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let json = is_json(&req);
        let bytes = body_of(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        if !json {
            return Err(not_json());
        }
        object_of(&bytes).map(|v| Some(ApiJson(v)))
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::JsonDataError(e) => {
            // serde's message names the field and the expected type.
            let detail = std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.body_text());
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                format!("invalid request body: {detail}"),
            )
        }
        JsonRejection::JsonSyntaxError(e) => {
            let detail = std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.body_text());
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("malformed JSON: {detail}"),
            )
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "the request body is over the size limit",
            )
        }
        other => ApiError::bad_request(other.body_text()),
    }
}

/// `axum::extract::Path` with a 400 in the API's shape.
pub struct ApiPath<T>(pub T);

/// For `#[serde(default, deserialize_with = "double_option")]`: tells an absent field
/// (`None`: leave unchanged) from `null` (`Some(None)`: clear it).
pub fn double_option<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e: PathRejection| ApiError::bad_request(e.body_text()))
    }
}

/// `axum::extract::Query` with a 400 in the API's shape, naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| ApiError::bad_request(e.body_text()))
    }
}

/// Where a request came from (request id, client address), for the audit log of
/// callers that are not logged in yet.
#[derive(Debug, Clone, Default)]
pub struct ClientOrigin(pub Origin);

impl<S: Send + Sync> FromRequestParts<S> for ClientOrigin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientOrigin(crate::auth::current::origin_of(
            &parts.headers,
            &parts.extensions,
        )))
    }
}

/// `axum::Form` for HTML pages: a form that cannot be read is an HTML error page
/// naming the problem (axum's own rejection is bare text).
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = crate::views::PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|f| PageForm(f.0))
            .map_err(|e| {
                crate::views::PageError(ApiError::new(
                    e.status(),
                    "bad_form",
                    format!("the form could not be read: {}", e.body_text()),
                ))
            })
    }
}

/// An urlencoded form body, read as the pages need it: repeated keys kept
/// (`roles=a&roles=b`, which serde's map extractor cannot hold), missing keys empty.
#[derive(Debug, Clone, Default)]
pub struct FormFields(std::collections::BTreeMap<String, Vec<String>>);

impl FormFields {
    pub fn parse(body: &[u8]) -> FormFields {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut m: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (k, v) in pairs {
            m.entry(k).or_default().push(v);
        }
        FormFields(m)
    }

    /// The first value of a field, or "" when it was not sent.
    pub fn one(&self, k: &str) -> String {
        self.0
            .get(k)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    }

    /// Every value of a repeated field.
    pub fn all(&self, k: &str) -> Vec<String> {
        self.0.get(k).cloned().unwrap_or_default()
    }

    /// A checkbox sent with `value="true"`.
    pub fn checked(&self, k: &str) -> bool {
        self.one(k) == "true"
    }

    /// A number field: empty means "not set"; text that is not a number is recorded in
    /// `bad` as (`api_name`, message) instead of being dropped, so the form can show
    /// it with every other problem.
    pub fn number<T: std::str::FromStr>(
        &self,
        k: &str,
        api_name: &str,
        bad: &mut Vec<(String, String)>,
    ) -> Option<T> {
        let v = self.one(k);
        let v = v.trim();
        if v.is_empty() {
            return None;
        }
        match v.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                bad.push((api_name.to_owned(), format!("'{v}' is not a number")));
                None
            }
        }
    }

    /// Each field's first value, to show a form again as it was typed.
    pub fn firsts(&self) -> std::collections::BTreeMap<String, String> {
        self.0.keys().map(|k| (k.clone(), self.one(k))).collect()
    }
}
