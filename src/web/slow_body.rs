//! A request body that does not arrive is answered `408 Request Timeout`.
//!
//! actix-web's `client_request_timeout` covers only the request head: a client that
//! sends `Content-Length: 100` and then a few bytes would hold the handler (and its
//! connection) for as long as it likes. Every request that announces a body gets it
//! through [`watch`]: once the handler begins to read, a pause of more than [`IDLE`]
//! waiting for the next piece of the body, or a body still incomplete after
//! [`TOTAL`], ends the read with an error, and
//! [`answer`] turns whatever the handler made of that error into a `408` that closes
//! the connection.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::HttpResponse;
use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use futures_util::Stream;
use tokio::time::{Instant, Sleep, sleep, sleep_until};

/// The longest pause between two pieces of a body.
pub const IDLE: Duration = Duration::from_secs(5);
/// The longest a whole body may take.
pub const TOTAL: Duration = Duration::from_secs(30);

/// Set once the body of this request timed out.
#[derive(Clone, Default)]
pub struct TimedOut(Rc<Cell<bool>>);

impl TimedOut {
    pub fn get(&self) -> bool {
        self.0.get()
    }
}

struct Watched {
    inner: Payload,
    idle: Pin<Box<Sleep>>,
    total: Pin<Box<Sleep>>,
    flag: TimedOut,
    started: bool,
    done: bool,
}

impl Stream for Watched {
    type Item = Result<actix_web::web::Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if !this.started {
            // The clocks start when the handler begins to read, not when the request came.
            this.started = true;
            let now = Instant::now();
            this.idle.as_mut().reset(now + IDLE);
            this.total.as_mut().reset(now + TOTAL);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => {
                this.idle.as_mut().reset(Instant::now() + IDLE);
                Poll::Ready(Some(Ok(bytes)))
            }
            Poll::Ready(other) => {
                this.done = other.is_none();
                Poll::Ready(other)
            }
            Poll::Pending => {
                if this.idle.as_mut().poll(cx).is_ready() || this.total.as_mut().poll(cx).is_ready() {
                    this.flag.0.set(true);
                    this.done = true;
                    return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the request body did not arrive in time",
                    )))));
                }
                Poll::Pending
            }
        }
    }
}

/// Whether the request announces a body (a length above 0, or chunks).
fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return true;
    }
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > 0)
}

/// Put the request's body under the timers; the flag says whether they fired.
pub fn watch(req: &mut ServiceRequest) -> TimedOut {
    let flag = TimedOut::default();
    if has_body(req) {
        let inner = req.take_payload();
        let watched = Watched {
            inner,
            idle: Box::pin(sleep(IDLE)),
            total: Box::pin(sleep_until(Instant::now() + TOTAL)),
            flag: flag.clone(),
            started: false,
            done: false,
        };
        let stream: Pin<Box<dyn Stream<Item = Result<actix_web::web::Bytes, PayloadError>>>> = Box::pin(watched);
        req.set_payload(Payload::from(stream));
    }
    flag
}

const MESSAGE: &str = "the request body did not arrive in time\n";

/// The handler's answer, or `408` (closing the connection) when the body timed out.
pub fn answer(
    result: Result<ServiceResponse<BoxBody>, actix_web::Error>,
    flag: &TimedOut,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !flag.get() {
        return result;
    }
    match result {
        Ok(res) => {
            tracing::info!(path = %res.request().path(), "request body timed out");
            let timeout =
                HttpResponse::RequestTimeout().force_close().content_type("text/plain; charset=utf-8").body(MESSAGE);
            Ok(res.into_response(timeout))
        }
        Err(_) => Err(actix_web::error::ErrorRequestTimeout(MESSAGE)),
    }
}
