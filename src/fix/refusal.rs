//! Why `fix` leaves a finding to a human: the reason printed after "not
//! rewritten:". A reason that names something in the code is a variant
//! that carries it; one that does not is a fixed sentence
//! ([`Refusal::Because`]).

/// A reason a fix is not placed, shown to the user as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A fixed sentence: nothing in it comes from the code.
    #[error("{0}")]
    Because(&'static str),
    /// A reason worded where it arises, naming what it is about (a registry
    /// pattern's hub and input, the place to add the routes by hand).
    #[error("{0}")]
    Said(String),
    /// `0`: the expression, shortened (Terraform).
    #[error("the routes are computed ({0})")]
    Computed(String),
    #[error("the routes come from {0}, which kmsguard does not follow to a written-out list")]
    NotFollowed(String),
    #[error("{what} does not write out `{key}`")]
    KeyNotWritten { what: String, key: String },
    #[error("local.{0} is not defined in the module")]
    LocalUndefined(String),
    #[error("var.{0} has no value written in this repository")]
    VarWithoutValue(String),
    #[error("var.{0} is not declared in the module")]
    VarUndeclared(String),
    #[error("var.{0} is given with --var on the command line")]
    VarFlag(String),
    /// `file`: the var file as reports show it.
    #[error("var.{name} is set in {file}, a JSON var file kmsguard does not edit")]
    VarInJson { name: String, file: String },
    #[error("the dynamic block sets no {0}")]
    DynamicSetsNo(String),
    #[error("the dynamic block's {0} is not read from the collection's entries")]
    DynamicDoesNotRead(String),
    /// A key of the written-out entries no route field reads (Terraform and
    /// Bicep show it in backticks, ARM in quotes).
    #[error("the entries carry `{0}`, which the route does not read and kmsguard cannot choose")]
    UnreadKey(String),
    #[error("the entries carry \"{0}\", which the route does not read and kmsguard cannot choose")]
    UnreadJsonKey(String),
    #[error("the routes come from {0}, which is not a written-out array")]
    NotWrittenOutArray(String),
    #[error("the routes come from {0}, which is not a variable or parameter written in this repository")]
    NotInRepository(String),
    #[error("the routes come from {0}, which is not a variable or parameter of this file")]
    NotInFile(String),
    #[error("the copy's {what} is not read from the entries of {param}")]
    CopyDoesNotRead { what: String, param: String },
    #[error("the copy's {0} is not read from the array's entries")]
    CopyDoesNotReadEntries(String),
    #[error("variable {0} is not written in the template")]
    VariableNotWritten(String),
    #[error("parameter {0} has no value written in this repository")]
    ParameterWithoutValue(String),
    #[error("{0} is not written out as an array")]
    NotAnArray(String),
    #[error("param {0} is set by some .bicepparam files for this template and not by others")]
    ParamSetSometimes(String),
    #[error("param {0} has no value written in this repository")]
    ParamWithoutValue(String),
    #[error("param {0} is set by more than one .bicepparam file")]
    ParamSetTwice(String),
    #[error("{0} is not written out")]
    NotWrittenOut(String),
    #[error("not exactly one entry of {0} makes this route")]
    NotOneEntry(String),
    #[error("the loop's {0} is not read from the entries")]
    LoopDoesNotRead(String),
    #[error("the entry's {0} is not written")]
    EntryFieldNotWritten(String),
    #[error("the entry's {0} is not a literal")]
    EntryFieldNotLiteral(String),
    #[error("the entries of {0} are not objects kmsguard can add to")]
    EntriesNotObjects(String),
    /// The edits made a file its parser rejects; `0` is the parser's message.
    #[error("the edited file would not parse ({0})")]
    WouldNotParse(String),
}

impl From<&'static str> for Refusal {
    fn from(why: &'static str) -> Self {
        Refusal::Because(why)
    }
}

impl From<String> for Refusal {
    fn from(reason: String) -> Self {
        Refusal::Said(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_as_the_sentences_users_see() {
        assert_eq!(Refusal::from("the loop is filtered").to_string(), "the loop is filtered");
        assert_eq!(
            Refusal::VarInJson {
                name: "routes".into(),
                file: "terraform.tfvars.json".into()
            }
            .to_string(),
            "var.routes is set in terraform.tfvars.json, a JSON var file kmsguard does not edit"
        );
        assert_eq!(
            Refusal::UnreadKey("tag".into()).to_string(),
            "the entries carry `tag`, which the route does not read and kmsguard cannot choose"
        );
        assert_eq!(
            Refusal::UnreadJsonKey("tag".into()).to_string(),
            "the entries carry \"tag\", which the route does not read and kmsguard cannot choose"
        );
    }
}
