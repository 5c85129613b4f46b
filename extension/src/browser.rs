//! What JavaScript calls: the gRPC-web calls to invite-service (the same RPCs every client uses)
//! and the pure helpers. Every error leaves here as a `UserError` object with words for a person.
use std::time::Duration;

use beckon_proto::invite::v1::{
    enrollment_service_client::EnrollmentServiceClient, invite_service_client::InviteServiceClient,
    job_service_client::JobServiceClient, organization_service_client::OrganizationServiceClient,
    ApiKeyScope, CreateInviteRequest, GetCallerRequest, GetInviteRequest, JobState,
    ListJobsRequest, RedeemEnrollmentRequest,
};
use serde::{Deserialize, Serialize};
use tonic::{Code, Status};
use tonic_web_wasm_client::{options::FetchOptions, Client};
use wasm_bindgen::prelude::*;

use crate::{
    errors::{Failure, UserError},
    field::{self, FieldDescription, InsertionMode},
    form::{InviteForm, Retries},
    invites::{recent_job_line, status_word},
    qr,
    recent::{self, RecentLink},
    selection, settings,
    share::Invitation,
};

/// Browsers never time out a fetch on their own; a hung server would leave the popup spinning.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);
/// Pixels; the popup shows it at this size and the PNG download is drawn from it.
const QR_SIZE: u32 = 240;
/// Stop paging through jobs after this many; a popup list longer than that is unusable anyway.
const MAX_JOB_PAGES: usize = 10;
/// The source CreateInvite records, so reports can tell extension invites apart.
const SOURCE: &str = "extension";

/// A server address and key that passed the local checks.
struct Connection {
    server: String,
    key: String,
}

impl Connection {
    fn new(server: &str, key: &str) -> Result<Self, JsValue> {
        let server = settings::normalize_server_address(server).map_err(to_js_error)?;
        settings::check_api_key(key).map_err(to_js_error)?;
        Ok(Self {
            server,
            key: key.trim().to_string(),
        })
    }

    fn channel(&self) -> Client {
        Client::new_with_options(
            self.server.clone(),
            FetchOptions::new().timeout(CALL_TIMEOUT),
        )
    }

    fn request<T>(&self, message: T) -> Result<tonic::Request<T>, JsValue> {
        let mut request = tonic::Request::new(message);
        // check_api_key allows only visible ASCII, which is always a valid header value.
        let value = format!("Bearer {}", self.key).parse().map_err(|_| {
            to_js_error(UserError::new(
                "bad_key",
                "Check the API key.",
                "It has characters that can't be sent. Paste it again.",
            ))
        })?;
        request.metadata_mut().insert("authorization", value);
        Ok(request)
    }

    /// Explains a failed call, telling "offline" apart from "server down".
    fn failed(&self, status: Status) -> JsValue {
        let failure = match Failure::from_status(&status) {
            Failure::Unreachable if !browser_online() => Failure::Offline,
            failure => failure,
        };
        to_js_error(failure.explain(&self.server))
    }

    fn organization(&self) -> OrganizationServiceClient<Client> {
        OrganizationServiceClient::new(self.channel())
    }

    fn jobs(&self) -> JobServiceClient<Client> {
        JobServiceClient::new(self.channel())
    }

    fn invites(&self) -> InviteServiceClient<Client> {
        InviteServiceClient::new(self.channel())
    }
}

/// `navigator.onLine`, in a page or in the service worker; assumed online if unreadable.
fn browser_online() -> bool {
    let navigator = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("navigator"));
    navigator
        .and_then(|n| js_sys::Reflect::get(&n, &JsValue::from_str("onLine")))
        .ok()
        .and_then(|online| online.as_bool())
        .unwrap_or(true)
}

fn to_js_error(error: UserError) -> JsValue {
    to_js(&error).unwrap_or_else(|fallback| fallback)
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    serde_wasm_bindgen::to_value(value).map_err(|err| {
        JsValue::from_str(&format!("The extension could not read its own data: {err}"))
    })
}

fn from_js<T: for<'de> Deserialize<'de>>(value: JsValue) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value).map_err(|err| {
        to_js_error(UserError::new(
            "extension_bug",
            "The extension sent itself something it can't read.",
            format!("Reload the extension; if it keeps happening, report it: {err}"),
        ))
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionReport {
    server: String,
    organization_name: String,
    key_name: String,
    masked_key: String,
    scope: &'static str,
    open_jobs: usize,
    /// The report in a sentence for the options page.
    summary: String,
}

/// "Test connection": who the key is, whether the server is new enough, whether the key may
/// make links, and how many open jobs it sees.
#[wasm_bindgen(js_name = checkConnection)]
pub async fn check_connection(server: String, key: String) -> Result<JsValue, JsValue> {
    let connection = Connection::new(&server, &key)?;
    let caller = connection
        .organization()
        .get_caller(connection.request(GetCallerRequest {})?)
        .await
        .map_err(|status| connection.failed(status))?
        .into_inner();
    settings::check_api_version(&caller.api_version).map_err(to_js_error)?;
    let key = caller.api_key.unwrap_or_default();
    let scope = match ApiKeyScope::try_from(key.scope) {
        Ok(ApiKeyScope::Links) => "links",
        Ok(ApiKeyScope::Invites) => "invites",
        Ok(ApiKeyScope::Admin) => "admin",
        _ => {
            return Err(connection.failed(Status::permission_denied("scope")));
        }
    };
    let jobs = open_jobs(&connection).await?;
    to_js(&ConnectionReport {
        server: connection.server.clone(),
        organization_name: caller.organization_name,
        masked_key: settings::masked_key(&key.prefix),
        summary: settings::connection_summary(&key.name, scope, jobs.len()),
        key_name: key.name,
        scope,
        open_jobs: jobs.len(),
    })
}

#[derive(Serialize)]
struct JobChoice {
    id: String,
    title: String,
}

async fn open_jobs(connection: &Connection) -> Result<Vec<JobChoice>, JsValue> {
    let mut client = connection.jobs();
    let mut jobs = Vec::new();
    let mut page_token = String::new();
    for _ in 0..MAX_JOB_PAGES {
        let page = client
            .list_jobs(connection.request(ListJobsRequest {
                page_size: 1000,
                page_token,
                state: JobState::Open as i32,
            })?)
            .await
            .map_err(|status| connection.failed(status))?
            .into_inner();
        jobs.extend(page.jobs.into_iter().map(|job| JobChoice {
            id: job.id,
            title: job.title,
        }));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    Ok(jobs)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Enrolled {
    server: String,
    api_key: String,
    masked_key: String,
}

/// The server an enrolment link names (empty when it is not one): for telling a CORS refusal
/// apart from a server that is down.
#[wasm_bindgen(js_name = enrollmentLinkServer)]
pub fn enrollment_link_server(link: &str) -> String {
    settings::parse_enrollment_link(link)
        .map(|link| link.server)
        .unwrap_or_default()
}

/// Connect with an enrolment link: trades its one-time code at its server for this
/// extension's own `links` key.
#[wasm_bindgen(js_name = redeemEnrollment)]
pub async fn redeem_enrollment(link: String, fresh_request_id: String) -> Result<JsValue, JsValue> {
    let link = settings::parse_enrollment_link(&link).map_err(to_js_error)?;
    let request_id = ENROLLMENT_RETRIES.with(|retries| {
        retries
            .borrow_mut()
            .request_id(&link.code, fresh_request_id)
    });
    let channel = Client::new_with_options(
        link.server.clone(),
        FetchOptions::new().timeout(CALL_TIMEOUT),
    );
    let answer = EnrollmentServiceClient::new(channel)
        .redeem_enrollment(RedeemEnrollmentRequest {
            code: link.code,
            request_id,
        })
        .await;
    let redeemed = match answer {
        Ok(response) => {
            ENROLLMENT_RETRIES.with(|retries| retries.borrow_mut().answered());
            response.into_inner()
        }
        Err(status) if status.code() == Code::NotFound => {
            return Err(to_js_error(UserError::enrollment_spent()))
        }
        Err(status) => {
            let failure = match Failure::from_status(&status) {
                Failure::Unreachable if !browser_online() => Failure::Offline,
                failure => failure,
            };
            return Err(to_js_error(failure.explain(&link.server)));
        }
    };
    let key = redeemed.api_key.unwrap_or_default();
    to_js(&Enrolled {
        server: link.server,
        api_key: redeemed.secret,
        masked_key: settings::masked_key(&key.prefix),
    })
}

/// The open jobs, for the popup's job picker.
#[wasm_bindgen(js_name = listOpenJobs)]
pub async fn list_open_jobs(server: String, key: String) -> Result<JsValue, JsValue> {
    let connection = Connection::new(&server, &key)?;
    to_js(&open_jobs(&connection).await?)
}

/// A new request id for a submission (beside the form's fields); used unless the submission
/// repeats one that got no answer (`form::Retries`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FreshRequestId {
    fresh_request_id: String,
}

thread_local! {
    /// This page's unanswered submission (wasm runs on one thread per page).
    static RETRIES: std::cell::RefCell<Retries<InviteForm>> = std::cell::RefCell::default();
    /// This page's unanswered enrolment trade: pasted again, the same link is the same request.
    static ENROLLMENT_RETRIES: std::cell::RefCell<Retries<String>> = std::cell::RefCell::default();
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedInvite {
    invite_id: String,
    link: String,
    status: &'static str,
    job_id: String,
    job_title: String,
    candidate_name: String,
    candidate_email: String,
    external_id: String,
    /// The recent list's second line: the job, and the application id if any.
    job_line: String,
    share: crate::share::ShareLinks,
}

/// Generate: makes the invite and returns its link with ready-made share links.
#[wasm_bindgen(js_name = createInvite)]
pub async fn create_invite(server: String, key: String, form: JsValue) -> Result<JsValue, JsValue> {
    let connection = Connection::new(&server, &key)?;
    // Read twice rather than with `#[serde(flatten)]`, whose buffering costs kilobytes of wasm.
    let FreshRequestId { fresh_request_id } = from_js(form.clone())?;
    let form: InviteForm = from_js(form)?;
    form.check().map_err(to_js_error)?;
    let request_id =
        RETRIES.with(|retries| retries.borrow_mut().request_id(&form, fresh_request_id));
    let response = connection
        .invites()
        .create_invite(connection.request(CreateInviteRequest {
            job_id: form.job_id.trim().to_string(),
            candidate_email: form.candidate_email.trim().to_string(),
            candidate_name: form.candidate_name.trim().to_string(),
            send_email: form.send_email,
            external_id: form.external_id.trim().to_string(),
            request_id,
            source: SOURCE.into(),
            ..Default::default()
        })?)
        .await
        .map_err(|status| connection.failed(status))?
        .into_inner();
    RETRIES.with(|retries| retries.borrow_mut().answered());
    let invite = response.invite.unwrap_or_default();
    let share = Invitation {
        link: &response.link_url,
        job_title: &form.job_title,
        candidate_name: &invite.candidate_name,
        candidate_email: &invite.candidate_email,
    }
    .share_links();
    to_js(&CreatedInvite {
        job_line: recent_job_line(&form.job_title, &invite.external_id),
        invite_id: invite.id,
        link: response.link_url,
        status: status_word(invite.status),
        job_id: invite.job_id,
        job_title: form.job_title,
        candidate_name: invite.candidate_name,
        candidate_email: invite.candidate_email,
        external_id: invite.external_id,
        share,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InviteState {
    id: String,
    status: &'static str,
    open_count: u32,
}

/// Current statuses of the recent links, fetched together. An invite deleted on the server
/// reads as "unknown"; a failure that concerns every call (bad key, server down) is an error.
#[wasm_bindgen(js_name = inviteStatuses)]
pub async fn invite_statuses(
    server: String,
    key: String,
    ids: Vec<String>,
) -> Result<JsValue, JsValue> {
    let connection = Connection::new(&server, &key)?;
    let calls = ids.into_iter().map(|id| {
        let connection = &connection;
        async move {
            let request = connection.request(GetInviteRequest { id: id.clone() })?;
            match connection.invites().get_invite(request).await {
                Ok(response) => {
                    let invite = response.into_inner();
                    Ok(InviteState {
                        id,
                        status: status_word(invite.status),
                        open_count: invite.open_count,
                    })
                }
                Err(status) if status.code() == Code::NotFound => Ok(InviteState {
                    id,
                    status: "unknown",
                    open_count: 0,
                }),
                Err(status) => Err(connection.failed(status)),
            }
        }
    });
    let states = futures::future::try_join_all(calls).await?;
    to_js(&states)
}

/// The message and mailto / WhatsApp / SMS links for a link made earlier.
#[wasm_bindgen(js_name = shareLinks)]
pub fn share_links(
    link: &str,
    job_title: &str,
    candidate_name: &str,
    candidate_email: &str,
) -> Result<JsValue, JsValue> {
    to_js(
        &Invitation {
            link,
            job_title,
            candidate_name,
            candidate_email,
        }
        .share_links(),
    )
}

/// The link as an SVG QR code.
#[wasm_bindgen(js_name = qrSvg)]
pub fn qr_svg(link: &str) -> Result<String, JsValue> {
    qr::qr_svg(link, QR_SIZE).map_err(|err| {
        to_js_error(UserError::new(
            "qr_failed",
            "Couldn't draw a QR code for this link.",
            format!("Copy the link instead ({err})."),
        ))
    })
}

/// Name and email guessed from the text selected on the page.
#[wasm_bindgen(js_name = guessCandidate)]
pub fn guess_candidate(selected: &str) -> Result<JsValue, JsValue> {
    to_js(&selection::guess_candidate(selected))
}

/// "value" or "editable": how to put the link into the described field; an error says why not.
#[wasm_bindgen(js_name = insertionMode)]
pub fn insertion_mode(field: JsValue) -> Result<String, JsValue> {
    let field: FieldDescription = from_js(field)?;
    match field::insertion_mode(&field) {
        Ok(InsertionMode::Value) => Ok("value".into()),
        Ok(InsertionMode::Editable) => Ok("editable".into()),
        Err(reason) => Err(to_js_error(reason.into())),
    }
}

/// The error for a link the page did not take (`outcome` as page.js reports it).
#[wasm_bindgen(js_name = insertionFailed)]
pub fn insertion_failed(outcome: &str) -> JsValue {
    to_js_error(UserError::new(
        "not_inserted",
        "The link wasn't inserted.",
        field::Refusal::from_outcome(outcome).explain(),
    ))
}

/// `detail` followed by where the link is now that it could not be inserted.
#[wasm_bindgen(js_name = linkHandedOver)]
pub fn link_handed_over(detail: &str, copied: bool) -> String {
    field::link_handed_over(detail, copied)
}

/// The note shown in the page once a link from the context menu or shortcut is in.
#[wasm_bindgen(js_name = insertedNote)]
pub fn inserted_note(candidate: &str) -> String {
    field::inserted_note(candidate)
}

/// A named error of the popup, the options page or the menu (`arg`: the origin for
/// `cors_refused`, the message for `extension_bug`).
#[wasm_bindgen(js_name = userError)]
pub fn user_error(kind: &str, arg: &str) -> JsValue {
    to_js_error(match kind {
        "page_unreachable" => UserError::page_unreachable(),
        "page_changed" => UserError::page_changed(),
        "no_tab" => UserError::no_tab(),
        "copy_failed" => UserError::copy_failed(),
        "no_job" => UserError::no_job(),
        "no_candidate" => UserError::no_candidate(),
        "setup_needed" => UserError::setup_needed(),
        "cors_refused" => UserError::cors_refused(arg),
        _ => UserError::extension_bug(arg),
    })
}

/// The context menu's and shortcut's checks before asking who a link is for.
#[wasm_bindgen(js_name = checkLinkFromPage)]
pub fn check_link_from_page(
    configured: bool,
    last_job_id: &str,
    field: JsValue,
) -> Result<(), JsValue> {
    let field: FieldDescription = from_js(field)?;
    field::check_link_from_page(configured, last_job_id, &field)
        .map(|_| ())
        .map_err(to_js_error)
}

/// The popup's checks before Generate calls the server.
#[wasm_bindgen(js_name = checkForm)]
pub fn check_form(form: JsValue) -> Result<(), JsValue> {
    let form: InviteForm = from_js(form)?;
    form.check().map_err(to_js_error)
}

/// The recent list with a link just made on top.
#[wasm_bindgen(js_name = recentWithNew)]
pub fn recent_with_new(recent: JsValue, created: JsValue) -> Result<JsValue, JsValue> {
    let recent: Vec<RecentLink> = from_js(recent)?;
    let mut entry: RecentLink = from_js(created)?;
    entry.created_at = js_sys::Date::now();
    to_js(&recent::with_new(recent, entry))
}

/// The invites whose status the popup refreshes when it opens.
#[wasm_bindgen(js_name = recentToRefresh)]
pub fn recent_to_refresh(recent: JsValue) -> Result<Vec<String>, JsValue> {
    let recent: Vec<RecentLink> = from_js(recent)?;
    Ok(recent::to_refresh(&recent))
}

/// The recent list with statuses as `inviteStatuses` returned them.
#[wasm_bindgen(js_name = recentWithStatuses)]
pub fn recent_with_statuses(recent: JsValue, states: JsValue) -> Result<JsValue, JsValue> {
    #[derive(Deserialize)]
    struct State {
        id: String,
        status: String,
    }
    let recent: Vec<RecentLink> = from_js(recent)?;
    let states: Vec<State> = from_js(states)?;
    let statuses: Vec<(String, String)> = states.into_iter().map(|s| (s.id, s.status)).collect();
    to_js(&recent::with_statuses(recent, &statuses))
}

/// The address as it will be stored and called.
#[wasm_bindgen(js_name = normalizeServerAddress)]
pub fn normalize_server_address(input: &str) -> Result<String, JsValue> {
    settings::normalize_server_address(input).map_err(to_js_error)
}

#[wasm_bindgen(js_name = checkApiKey)]
pub fn check_api_key(key: &str) -> Result<(), JsValue> {
    settings::check_api_key(key).map_err(to_js_error)
}
