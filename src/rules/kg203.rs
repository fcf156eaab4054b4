//! KG203: an outbound NSG rule denies the `AzurePlatformIMDS` service tag for IMDS (TCP 80),
//! and no earlier rule allows it first.

use super::platform::PlatformTagRule;

/// Its tag and flows are the pack's `platform_service` whose `rule` is KG203.
pub static RULE: PlatformTagRule = PlatformTagRule {
    code: "KG203",
    name: "nsg-denies-platform-imds",
};

#[cfg(test)]
mod tests {
    use crate::model::Model;
    use crate::rules::testkit::*;

    #[test]
    fn flags_an_imds_deny_on_port_80() {
        let m = Model {
            nsgs: vec![nsg(
                "n",
                vec![rule(
                    "deny-imds",
                    100,
                    "Outbound",
                    "Deny",
                    "Tcp",
                    &["*"],
                    &["AzurePlatformIMDS"],
                    &["80"],
                )],
            )],
            ..Model::default()
        };
        assert_eq!(codes(&m), vec!["KG203"]);
    }

    #[test]
    fn quiet_when_the_imds_deny_is_on_another_port() {
        let m = Model {
            nsgs: vec![nsg(
                "n",
                vec![rule(
                    "deny-imds",
                    100,
                    "Outbound",
                    "Deny",
                    "Tcp",
                    &["*"],
                    &["AzurePlatformIMDS"],
                    &["443"],
                )],
            )],
            ..Model::default()
        };
        assert_eq!(codes(&m), Vec::<&str>::new());
    }
}
