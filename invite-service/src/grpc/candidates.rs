use beckon_proto::invite::v1::{self as pb, candidate_service_server::CandidateService};
use tonic::{Request, Response, Status};

use super::{convert, Api};
use crate::{
    domain::{validate::*, Action},
    store::{
        candidates::{self, CandidateInput},
        paging::Page,
    },
};

const MAX_EXTERNAL_ID: usize = 200;

#[tonic::async_trait]
impl CandidateService for Api {
    async fn upsert_candidate(
        &self,
        request: Request<pb::UpsertCandidateRequest>,
    ) -> Result<Response<pb::Candidate>, Status> {
        self.call(request, Action::Candidates, |caller, req| async move {
            let mut v = Violations::new();
            let c = req.candidate.unwrap_or_default();
            let email = v.required_email("candidate.email", &c.email);
            let name = v.single_line("candidate.name", &c.name, MAX_NAME);
            let external_id =
                v.single_line("candidate.external_id", &c.external_id, MAX_EXTERNAL_ID);
            let input = CandidateInput {
                email: v.finish_with("candidate.email", email)?,
                name,
                external_id,
            };
            candidates::upsert(&self.store, &caller, input)
                .await
                .map(convert::candidate)
        })
        .await
    }

    async fn get_candidate(
        &self,
        request: Request<pb::GetCandidateRequest>,
    ) -> Result<Response<pb::Candidate>, Status> {
        self.call(request, Action::Candidates, |caller, req| async move {
            let mut v = Violations::new();
            let id = v.id("id", &req.id);
            v.finish()?;
            candidates::get(&self.store, &caller, id)
                .await
                .map(convert::candidate)
        })
        .await
    }

    async fn list_candidates(
        &self,
        request: Request<pb::ListCandidatesRequest>,
    ) -> Result<Response<pb::ListCandidatesResponse>, Status> {
        self.call(request, Action::Candidates, |caller, req| async move {
            let mut v = Violations::new();
            let email = v.email("email", &req.email);
            let page = Page::parse(
                &mut v,
                req.page_size,
                &req.page_token,
                format!("candidates|{email:?}"),
            );
            v.finish()?;
            let (rows, next_page_token) =
                candidates::list(&self.store, &caller, email, &page).await?;
            Ok(pb::ListCandidatesResponse {
                candidates: rows.into_iter().map(convert::candidate).collect(),
                next_page_token,
            })
        })
        .await
    }
}
