//! Who is calling, as HTTP carries it: session cookies, bearer tokens, CSRF. The
//! credentials themselves are checked by the application layer.

pub mod csrf;
pub mod current;

pub use current::{CurrentUser, MaybeUser};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "modgate_session";
/// Name of the pre-login CSRF cookie (double-submit for the login form).
pub const LOGIN_CSRF_COOKIE: &str = "modgate_login_csrf";
/// Header that cookie-authenticated API calls must carry on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Form field that carries the CSRF token on HTML form posts.
pub const CSRF_FIELD: &str = "_csrf";
