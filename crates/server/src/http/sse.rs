//! Server-sent events from a background task: the task sends events into a channel;
//! the response streams them until the task drops its sender.

use crate::error::ApiError;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use tokio::sync::mpsc::UnboundedReceiver;

/// Cancels a token when dropped: dropping the response stream (the client went away)
/// tells the task to stop.
struct CancelOnDrop(Option<llm::CancellationToken>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(t) = &self.0 {
            t.cancel();
        }
    }
}

/// Whether the client asked for a stream of events.
pub fn wants_stream(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"))
}

/// The response for a channel of events; `cancel` is cancelled when the client leaves.
pub fn respond(rx: UnboundedReceiver<Event>, cancel: Option<llm::CancellationToken>) -> Response {
    let guard = CancelOnDrop(cancel);
    let stream = futures_util::stream::unfold((rx, guard), |(mut rx, guard)| async move {
        rx.recv()
            .await
            .map(|ev| (Ok::<_, Infallible>(ev), (rx, guard)))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// The last event of a stream that failed: `error`, with the API's error fields and
/// the status the same failure would have had as a plain answer.
pub fn error_event(e: ApiError) -> Event {
    Event::default()
        .event("error")
        .json_data(serde_json::json!({
            "status": e.status.as_u16(), "code": e.code, "message": e.message, "details": e.details }))
        .unwrap_or_else(|_| Event::default().event("error").data("internal error"))
}
