//! One prompt, `propose_change`: the steps an agent takes to propose a
//! change a person will review, in the tools' own terms.

use rmcp::ErrorData;
use rmcp::model::{GetPromptRequestParams, GetPromptResult, Prompt, PromptArgument, PromptMessage, Role};

const NAME: &str = "propose_change";

pub fn listed() -> Vec<Prompt> {
    let mut prompt = Prompt::new(
        NAME,
        Some("Propose an infrastructure change as a draft a person reviews and applies"),
        Some(vec![
            PromptArgument::new("change")
                .with_title("The change")
                .with_description("What should change and why, in a sentence or two (no secrets).")
                .with_required(true),
        ]),
    );
    prompt.title = Some("Propose a change for review".into());
    vec![prompt]
}

pub fn get(request: &GetPromptRequestParams) -> Result<GetPromptResult, ErrorData> {
    if request.name != NAME {
        return Err(ErrorData::invalid_params("no such prompt: the one prompt is propose_change", None));
    }
    let change = request
        .arguments
        .as_ref()
        .and_then(|args| args.get("change"))
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ErrorData::invalid_params("propose_change needs the argument change", None))?;
    let text = format!(
        "Propose this change to the infrastructure as a draft, for a person to review and apply:\n\n{change}\n\n\
         1. Call list_drafts (or read draft://drafts) and look for a pending draft for the same endpoint: do not \
         propose it twice; if yours replaces one you proposed, discard that one with discard_draft and a reason.\n\
         2. Call create_endpoint_draft with name, provider and target_url (a public https URL), the events, and a \
         rationale that says why the change is needed, what you checked and what could go wrong; add links to the \
         ticket or incident and agent (your model, session and tool). Never put a secret in any argument: pass a \
         reference such as vault://kv/path in secret_ref.\n\
         3. If the call is refused, read the error's code, failed checks and hint, fix the argument it names and \
         call again. Nothing was written by a refused call.\n\
         4. Read the draft back with show_draft (or draft://drafts/{{id}}): its checks must all pass, and the diff must be \
         the change you meant.\n\
         5. Tell the person who reviews drafts the draft's id and what it does. You cannot apply it: only they can."
    );
    let mut result = GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]);
    result.description = Some("Propose a change as a draft for review".into());
    Ok(result)
}
